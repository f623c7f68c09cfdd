using System.Diagnostics;
using System.Text.Json;
using EgressLab.LoadTests.Cli;
using EgressLab.LoadTests.Reports;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Tests.Reports;

/// <summary>
/// report.html in a real browser: tools/report-check opens it in headless Chromium at 1280 and 1024 px, writes a
/// screenshot of each, and fails on anything wider than the window and on script or console errors. Needs node,
/// Chromium and the tool's node_modules (.ci/run installs all three); skips with the reason elsewhere.
/// </summary>
public sealed class ReportBrowserCheckTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private static readonly string ToolDirectory = RepositoryFiles.PathOf("tools", "report-check");

    /// <summary>Where the pages and screenshots go: beside the test binary, so a run leaves them to look at.</summary>
    private static readonly string OutDirectory = Path.Combine(AppContext.BaseDirectory, "report-check");

    private sealed record WidthResult(int Width, bool Ok, string Screenshot, IReadOnlyList<string> Problems);

    private static string Chromium => Environment.GetEnvironmentVariable("CHROMIUM") ?? "/usr/bin/chromium";

    private static void RequireTools()
    {
        Requirements.SkipUnless(Requirements.FindOnPath("node") is not null, "node is not installed (apt-get install nodejs)");
        Requirements.SkipUnless(File.Exists(Chromium), $"{Chromium} is missing (apt-get install chromium, or set CHROMIUM)");
        Requirements.SkipUnless(
            Directory.Exists(Path.Combine(ToolDirectory, "node_modules", "playwright-core")),
            "tools/report-check has no node_modules (run npm ci there)");
    }

    private static (int ExitCode, List<WidthResult> Widths, string Error) Check(string name, string html)
    {
        Directory.CreateDirectory(OutDirectory);
        var page = Path.Combine(OutDirectory, name + ".html");
        File.WriteAllText(page, html);
        var start = new ProcessStartInfo("node") { WorkingDirectory = ToolDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "check.mjs", page, OutDirectory, "1280", "1024" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the browser check of {page} took longer than {Timeout}");
        }

        process.WaitForExit();
        var widths = output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize<WidthResult>(line, JsonSerializerOptions.Web)!)
            .ToList();
        return (process.ExitCode, widths, error.Result);
    }

    private static string Report() =>
        HtmlReport.Render(CompareFixture.Create(), CostSettings.Read("2TB/month", null, null, null, null, null, [])!);

    [Fact]
    public void Report_Fixture_FitsTheWindowAt1280And1024WithoutErrors()
    {
        RequireTools();

        var (code, widths, error) = Check("report", Report());

        Assert.True(code == 0, $"exit {code}: {error}\n{string.Join("\n", widths.SelectMany(w => w.Problems.Select(p => $"{w.Width} px: {p}")))}");
        Assert.Equal([1280, 1024], widths.Select(w => w.Width));
        foreach (var width in widths)
        {
            Assert.True(width.Ok);
            var png = File.ReadAllBytes(width.Screenshot);
            Assert.True(png.Length > 10_000, $"{width.Screenshot} is only {png.Length} bytes");
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png.Take(4));
        }
    }

    [Fact]
    public void Report_TooWideTable_FailsNamingTheTable()
    {
        RequireTools();
        // min-width, since the report's own rule (max-width: 100%) would rein in a plain width.
        var html = Report().Replace("<section id=\"how-to-read\">", "<table data-table=\"too-wide\" style=\"min-width: 1500px\"><tr><td>wide</td></tr></table>\n<section id=\"how-to-read\">", StringComparison.Ordinal);

        var (code, widths, error) = Check("report-too-wide", html);

        Assert.True(code == 1, $"exit {code}: {error}");
        Assert.All(widths, w =>
        {
            Assert.False(w.Ok);
            Assert.Contains(w.Problems, p => p.StartsWith("the page scrolls sideways", StringComparison.Ordinal));
            Assert.Contains(w.Problems, p => p.StartsWith("table in table too-wide spans", StringComparison.Ordinal));
        });
    }

    [Fact]
    public void Report_TableScrollingInsideItsBox_FailsToo()
    {
        RequireTools();
        var html = Report().Replace("<table data-table=\"verdict\">", "<table data-table=\"verdict\" style=\"min-width: 1500px\">", StringComparison.Ordinal);

        var (code, widths, _) = Check("report-scrolling-table", html);

        Assert.Equal(1, code);
        Assert.All(widths, w => Assert.Contains(w.Problems, p => p.Contains("scrolls sideways", StringComparison.Ordinal) && p.Contains("verdict", StringComparison.Ordinal)));
    }

    [Fact]
    public void Report_ScriptAndConsoleErrors_Fail()
    {
        RequireTools();
        var html = Report().Replace("</main>", "</main>\n<script>console.error('broken on purpose'); undefinedFunction();</script>", StringComparison.Ordinal);

        var (code, widths, _) = Check("report-script-error", html);

        Assert.Equal(1, code);
        Assert.All(widths, w =>
        {
            Assert.Contains("console error: broken on purpose", w.Problems);
            Assert.Contains(w.Problems, p => p.StartsWith("script error: ", StringComparison.Ordinal) && p.Contains("undefinedFunction", StringComparison.Ordinal));
        });
    }
}
