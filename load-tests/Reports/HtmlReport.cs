using System.Text;
using EgressLab.LoadTests.Cost;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Reports;

/// <summary>
/// report.html: one self-contained page (inline CSS, inline SVG charts, no scripts, fonts, images or links out), so
/// it reads the same offline and attached to a ticket. Written as XHTML-compatible HTML5: every element closed and
/// every text escaped, so XML tools can parse it too.
/// </summary>
internal static class HtmlReport
{
    // Every table fits the page: long cells wrap (numbers only at their spaces), and the page is checked in a
    // headless browser at 1280 and 1024 px for anything wider than the window (tools/report-check).
    private const string Style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b; background: #ffffff; margin: 0; line-height: 1.45; }
        main { max-width: 1180px; margin: 0 auto; padding: 1.5rem; }
        h1 { font-size: 1.7rem; margin-bottom: 0.3rem; }
        h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 1px solid #dddddd; padding-bottom: 0.2rem; }
        h3 { font-size: 1.05rem; margin-top: 1.4rem; }
        table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; max-width: 100%; table-layout: auto; }
        table[data-table="verdict"], table[data-table="cost"] { width: 100%; }
        th, td { border: 1px solid #d4d4d4; padding: 0.25rem 0.55rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
        th { background: #f3f3f3; overflow-wrap: normal; }
        td[data-column="path"] { white-space: nowrap; }
        td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; overflow-wrap: normal; }
        tr.flagged td { background: #fde7e1; font-weight: bold; }
        tr.total td { font-weight: bold; border-bottom: 2px solid #888888; }
        .table-wrap { overflow-x: auto; }
        figure { margin: 1rem 0; }
        svg.chart, svg.topology { max-width: 100%; height: auto; border: 1px solid #eeeeee; }
        pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
        dl.environment { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.2rem 1rem; }
        dl.environment dt { font-weight: bold; }
        dl.environment dd { margin: 0; overflow-wrap: anywhere; }
        ul.notes { color: #7a2a10; }
        """;

    /// <param name="cost">The monthly cost per path (<c>--traffic</c>); null to show none.</param>
    public static string Render(CompareResults results, CostEstimate? cost = null)
    {
        var summary = CompareSummary.Of(results);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
        html.Append($"<title>{E(ReportTables.Title)}</title>\n<style>\n{Style}</style>\n</head>\n<body>\n<main>\n");
        html.Append($"<h1>{E(ReportTables.Title)}</h1>\n<p>{E(ReportTables.Introduction(summary))}</p>\n");

        html.Append("<section id=\"summary\">\n<h2>Summary</h2>\n");
        html.Append("<figure>\n").Append(TopologyDiagram.Render(results.Paths)).Append("\n</figure>\n");
        html.Append($"<p>{E(SummaryTables.VerdictDescription(summary, cost))}</p>\n");
        Table(html, "verdict", SummaryTables.Verdict(summary, cost));
        html.Append("</section>\n");

        html.Append("<section id=\"how-to-read\">\n<h2>How to read this</h2>\n");
        Paragraphs(html, ReportTables.HowToRead);

        html.Append("</section>\n<section id=\"paths\">\n<h2>Paths</h2>\n");
        Table(html, "paths", ReportTables.Paths(summary));
        html.Append("</section>\n");
        if (cost is not null)
        {
            html.Append("<section id=\"cost\">\n<h2>Monthly cost</h2>\n");
            Paragraphs(html, SummaryTables.CostAssumptions(cost));
            Table(html, "cost", SummaryTables.Cost(cost));
            Paragraphs(html, SummaryTables.BreakEvens(cost));
            html.Append("</section>\n");
        }

        foreach (var section in summary.Scenarios)
        {
            html.Append($"<section id=\"scenario-{Id(section.Scenario)}\">\n<h2>{E(section.Scenario)}</h2>\n");
            html.Append($"<p>{E(ReportTables.ScenarioDescription(section))}</p>\n");
            Table(html, $"scenario-{section.Scenario}", ReportTables.Scenario(summary, section));
            var notes = ReportTables.ScenarioNotes(summary, section);
            if (notes.Count > 0)
            {
                html.Append("<ul class=\"notes\">\n");
                foreach (var note in notes)
                {
                    html.Append($"<li>{E(note)}</li>\n");
                }

                html.Append("</ul>\n");
            }

            if (section.Phases.Count > 0)
            {
                html.Append($"<h3>{E(section.Scenario)}: phases</h3>\n<p>{E(ReportTables.PhasesDescription)}</p>\n");
                Table(html, $"phases-{section.Scenario}", ReportTables.Phases(section));
            }

            Figure(html, ReportCharts.Spectrum(section));
            if (ReportCharts.ThroughputScenarios.Contains(section.Scenario))
            {
                Figure(html, ReportCharts.Throughput(section));
            }

            html.Append("</section>\n");
        }

        html.Append("<section id=\"ladder\">\n<h2>Latency against offered rate</h2>\n");
        if (ReportTables.HasLadders(summary))
        {
            html.Append($"<p>{E(ReportTables.LadderDescription)} {E(ReportTables.Knees(summary))}</p>\n");
        }

        Figure(html, ReportCharts.Ladder(summary));
        if (ReportTables.HasLadders(summary))
        {
            Table(html, "ladder", ReportTables.Ladder(summary));
        }

        html.Append("</section>\n");
        if (summary.Results.NatFailure is { } failure)
        {
            html.Append($"<section id=\"nat-failure\">\n<h2>{E(NatFailureTables.Title)}</h2>\n<p>{E(NatFailureTables.Description(failure))}</p>\n");
            Table(html, "nat-failure", NatFailureTables.Table(failure));
            html.Append("</section>\n");
        }

        if (ProbeTables.HasProbes(results))
        {
            html.Append($"<section id=\"natgw-limits\">\n<h2>{E(ProbeTables.Heading)}</h2>\n<p>{E(ProbeTables.Description(results))}</p>\n");
            html.Append("<h3>natgw-destination-limit</h3>\n");
            Table(html, "natgw-destination-limit", ProbeTables.DestinationLimit(results));
            html.Append("<h3>natgw-idle-timeout</h3>\n");
            Table(html, "natgw-idle-timeout", ProbeTables.IdleTimeout(results));
            html.Append("<ul class=\"notes\">\n");
            foreach (var caveat in ProbeTables.Caveats)
            {
                html.Append($"<li>{E(caveat)}</li>\n");
            }

            html.Append("</ul>\n</section>\n");
        }

        html.Append("<section id=\"accounting\">\n<h2>Request accounting</h2>\n");
        html.Append($"<p>{E(ReportTables.AccountingSummary(summary))}</p>\n");
        if (summary.Accounting.Count > 0)
        {
            Table(html, "accounting", ReportTables.Accounting(summary));
        }

        html.Append("</section>\n<section id=\"environment\">\n<h2>Environment</h2>\n<dl class=\"environment\">\n");
        foreach (var (label, value) in ReportTables.Environment(summary))
        {
            html.Append($"<dt>{E(label)}</dt><dd>{E(value)}</dd>\n");
        }

        html.Append($"</dl>\n<p>Command:</p>\n<pre><code>{E(results.Environment.Command)}</code></pre>\n");
        html.Append("</section>\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static string E(string text) => SvgChart.Escape(text);

    private static void Paragraphs(StringBuilder html, IEnumerable<string> paragraphs)
    {
        foreach (var paragraph in paragraphs)
        {
            html.Append($"<p>{E(paragraph)}</p>\n");
        }
    }

    private static void Table(StringBuilder html, string name, ReportTable table)
    {
        html.Append($"<div class=\"table-wrap\">\n<table data-table=\"{E(name)}\">\n<thead><tr>");
        foreach (var column in table.Columns)
        {
            html.Append($"<th scope=\"col\"{(column.Numeric ? " class=\"number\"" : "")}>{E(column.Header)}</th>");
        }

        html.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in table.Rows)
        {
            var rowClass = row.Flagged ? " class=\"flagged\"" : row.Total ? " class=\"total\"" : "";
            html.Append($"<tr data-path=\"{E(row.Key)}\"{rowClass}>");
            for (var i = 0; i < table.Columns.Count; i++)
            {
                var column = table.Columns[i];
                var cell = i < row.Cells.Count ? row.Cells[i] : "";
                html.Append($"<td data-column=\"{E(column.Key)}\"{(column.Numeric ? " class=\"number\"" : "")}>{E(cell)}</td>");
            }

            html.Append("</tr>\n");
        }

        html.Append("</tbody>\n</table>\n</div>\n");
    }

    private static void Figure(StringBuilder html, SvgChart chart) => html.Append("<figure>\n").Append(chart.Render()).Append("\n</figure>\n");

    // An id attribute from a scenario name: letters, digits and hyphens only.
    private static string Id(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            var lower = char.ToLowerInvariant(c);
            builder.Append(lower is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? lower : '-');
        }

        return builder.ToString();
    }
}
