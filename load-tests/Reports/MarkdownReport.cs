using System.Text;
using EgressLab.LoadTests.Cost;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Reports;

/// <summary>report.md: the comparison as Markdown tables, for a pull request, a wiki or a terminal.</summary>
internal static class MarkdownReport
{
    /// <param name="cost">The monthly cost per path (<c>--traffic</c>); null to show none.</param>
    public static string Render(CompareResults results, CostEstimate? cost = null)
    {
        var summary = CompareSummary.Of(results);
        var md = new StringBuilder();
        Line(md, $"# {ReportTables.Title}");
        Line(md);
        Line(md, Escape(ReportTables.Introduction(summary)));
        Line(md);
        Line(md, "## Summary");
        Line(md);
        Line(md, Escape(SummaryTables.VerdictDescription(summary, cost)));
        Line(md);
        Table(md, SummaryTables.Verdict(summary, cost));
        Line(md);
        Line(md, "## How to read this");
        Paragraphs(md, ReportTables.HowToRead);

        Line(md);
        Line(md, "## Paths");
        Line(md);
        Table(md, ReportTables.Paths(summary));
        if (cost is not null)
        {
            Line(md);
            Line(md, "## Monthly cost");
            Paragraphs(md, SummaryTables.CostAssumptions(cost));
            Line(md);
            Table(md, SummaryTables.Cost(cost));
            Paragraphs(md, SummaryTables.BreakEvens(cost));
        }

        foreach (var section in summary.Scenarios)
        {
            Line(md);
            Line(md, $"## {Escape(section.Scenario)}");
            Line(md);
            Line(md, Escape(ReportTables.ScenarioDescription(section)));
            Line(md);
            Table(md, ReportTables.Scenario(summary, section));
            var notes = ReportTables.ScenarioNotes(summary, section);
            if (notes.Count > 0)
            {
                Line(md);
                foreach (var note in notes)
                {
                    Line(md, "- " + Escape(note));
                }
            }

            if (section.Phases.Count > 0)
            {
                Line(md);
                Line(md, $"### {Escape(section.Scenario)}: phases");
                Line(md);
                Line(md, Escape(ReportTables.PhasesDescription));
                Line(md);
                Table(md, ReportTables.Phases(section));
            }
        }

        Line(md);
        Line(md, "## Latency against offered rate");
        Line(md);
        if (ReportTables.HasLadders(summary))
        {
            Line(md, Escape(ReportTables.LadderDescription));
            Line(md);
            Line(md, Escape(ReportTables.Knees(summary)));
            Line(md);
            Table(md, ReportTables.Ladder(summary));
        }
        else
        {
            Line(md, "No rate ladder was run.");
        }

        if (results.NatFailure is { } failure)
        {
            Section(md, NatFailureTables.Title, NatFailureTables.Description(failure));
            Table(md, NatFailureTables.Table(failure));
        }

        if (ProbeTables.HasProbes(results))
        {
            Section(md, ProbeTables.Heading, ProbeTables.Description(results));
            Line(md, "### natgw-destination-limit");
            Line(md);
            Table(md, ProbeTables.DestinationLimit(results));
            Line(md);
            Line(md, "### natgw-idle-timeout");
            Line(md);
            Table(md, ProbeTables.IdleTimeout(results));
            Line(md);
            foreach (var caveat in ProbeTables.Caveats)
            {
                Line(md, "- " + Escape(caveat));
            }
        }

        Line(md);
        Line(md, "## Request accounting");
        Line(md);
        Line(md, Escape(ReportTables.AccountingSummary(summary)));
        if (summary.Accounting.Count > 0)
        {
            Line(md);
            Table(md, ReportTables.Accounting(summary));
        }

        Line(md);
        Line(md, "## Environment");
        Line(md);
        foreach (var (label, value) in ReportTables.Environment(summary))
        {
            Line(md, $"- {Escape(label)}: {Escape(value)}");
        }

        Line(md);
        Line(md, "Command:");
        Line(md);
        var fence = Fence(results.Environment.Command);
        Line(md, fence);
        Line(md, results.Environment.Command.ReplaceLineEndings(" "));
        Line(md, fence);
        return md.ToString();
    }

    /// <summary>
    /// Backslash-escapes the characters that would turn text into Markdown or HTML (CommonMark allows a backslash
    /// before any ASCII punctuation), and folds line breaks so a value cannot break a table row.
    /// </summary>
    public static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];

            // An underscore inside a word (x86_64) never starts emphasis, so it stays as typed.
            var intraword = c == '_' && i > 0 && i < text.Length - 1 && char.IsLetterOrDigit(text[i - 1]) && char.IsLetterOrDigit(text[i + 1]);
            if (c is '\\' or '`' or '*' or '[' or ']' or '<' or '>' or '|' or '#' || (c == '_' && !intraword))
            {
                builder.Append('\\');
            }

            builder.Append(c is '\r' or '\n' ? ' ' : c);
        }

        return builder.ToString();
    }

    private static void Table(StringBuilder md, ReportTable table)
    {
        Line(md, "| " + string.Join(" | ", table.Columns.Select(c => Escape(c.Header))) + " |");
        Line(md, "|" + string.Join("|", table.Columns.Select(c => c.Numeric ? "---:" : "---")) + "|");
        foreach (var row in table.Rows)
        {
            var cells = row.Cells.Select(Escape).Select((cell, i) => row.Flagged && i == row.Cells.Count - 1 ? $"**{cell}**" : cell);
            Line(md, "| " + string.Join(" | ", cells) + " |");
        }
    }

    // A code fence longer than any run of backticks in the text, so the text cannot close it.
    private static string Fence(string text)
    {
        int longest = 0, run = 0;
        foreach (var c in text)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return new string('`', Math.Max(3, longest + 1));
    }

    private static void Paragraphs(StringBuilder md, IEnumerable<string> paragraphs)
    {
        foreach (var paragraph in paragraphs)
        {
            Line(md);
            Line(md, Escape(paragraph));
        }
    }

    // "\n" whatever the platform, so the golden file is the same everywhere.
    private static void Line(StringBuilder md, string text = "") => md.Append(text).Append('\n');

    /// <summary>A blank line, a second-level heading and its paragraph, ending with the blank line after it.</summary>
    private static void Section(StringBuilder md, string heading, string description)
    {
        Line(md);
        Line(md, $"## {heading}");
        Line(md);
        Line(md, Escape(description));
        Line(md);
    }
}
