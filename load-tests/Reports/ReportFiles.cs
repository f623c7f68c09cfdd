using EgressLab.LoadTests.Cost;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Reports;

/// <summary>Writes report.md and report.html into a directory: <c>compare</c> after a run, <c>report</c> from a results.json.</summary>
internal static class ReportFiles
{
    public const string Markdown = "report.md";
    public const string Html = "report.html";

    /// <summary>Renders both reports and writes them; returns the paths written. Throws <see cref="IOException"/>
    /// or <see cref="UnauthorizedAccessException"/> when the directory cannot be written.</summary>
    public static IReadOnlyList<string> Write(CompareResults results, string directory, CostEstimate? cost = null) =>
        WriteAtomically(directory, [(Markdown, MarkdownReport.Render(results, cost)), (Html, HtmlReport.Render(results, cost))]);

    /// <summary>
    /// Writes every file to a temporary name in the same directory first and only then renames them into place, so a
    /// failure (disk full, killed process) leaves the previous files, never half-written ones.
    /// </summary>
    public static IReadOnlyList<string> WriteAtomically(string directory, IReadOnlyList<(string Name, string Text)> files)
    {
        var full = Path.GetFullPath(directory);
        Directory.CreateDirectory(full);
        var staged = new List<(string Temporary, string Final)>();
        try
        {
            foreach (var (name, text) in files)
            {
                var final = Path.Combine(full, name);
                var temporary = Path.Combine(full, $".{name}.{Guid.NewGuid():N}.tmp");
                staged.Add((temporary, final));
                File.WriteAllText(temporary, text);
            }

            foreach (var (temporary, final) in staged)
            {
                File.Move(temporary, final, overwrite: true);
            }
        }
        finally
        {
            foreach (var (temporary, _) in staged)
            {
                if (File.Exists(temporary))
                {
                    File.Delete(temporary);
                }
            }
        }

        return staged.Select(s => s.Final).ToList();
    }
}
