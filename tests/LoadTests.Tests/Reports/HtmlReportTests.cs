using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using EgressLab.LoadTests.Reports;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Tests.Reports;

public sealed partial class HtmlReportTests
{
    private static readonly XNamespace Svg = SvgChart.Namespace;
    private static readonly CompareResults Results = CompareFixture.Create();
    private static readonly string Html = HtmlReport.Render(Results);
    private static readonly XDocument Page = Parse(Html);

    private static readonly string[] PathIds = ["l3", "l4", "l7"];

    [GeneratedRegex("<svg[ >].*?</svg>", RegexOptions.Singleline)]
    private static partial Regex SvgElement();

    [GeneratedRegex("https?://[^\"'\\s<>)]*")]
    private static partial Regex Url();

    internal static XDocument Parse(string html)
    {
        // <!DOCTYPE html> has no DTD to fetch or expand; ignoring it leaves plain XML.
        using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null });
        return XDocument.Load(reader);
    }

    private static List<XElement> Charts(XDocument page) => page.Descendants(Svg + "svg").Where(s => (string?)s.Attribute("class") == "chart").ToList();

    private static string Title(XElement chart) => chart.Element(Svg + "title")!.Value;

    private static string Cell(string table, string path, string column) =>
        Page.Descendants("table")
            .Single(t => (string?)t.Attribute("data-table") == table)
            .Descendants("tr").Single(r => (string?)r.Attribute("data-path") == path)
            .Elements("td").Single(d => (string?)d.Attribute("data-column") == column)
            .Value;

    private static List<ScenarioResult> Rounds(string path, string scenario) =>
        Results.Cells.Where(c => c.PathId == path && c.Scenario == scenario).Select(c => c.Result).ToList();

    // Computed here from the raw rounds, independently of the report's own summary code.
    private static double Median3(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        Assert.Equal(3, sorted.Length);
        return sorted[1];
    }

    private static string Expected(IEnumerable<double> values, Func<double, string> format)
    {
        var sorted = values.Order().ToArray();
        var (median, min, max) = (format(sorted[1]), format(sorted[0]), format(sorted[2]));
        return min == max ? median : $"{median} ({min}–{max})";
    }

    [Fact]
    public void Render_Fixture_ParsesAsXmlAndEverySvgParsesOnItsOwn()
    {
        Assert.Equal("html", Page.Root!.Name.LocalName);
        Assert.NotNull(Page.Root.Element("head")?.Element("style"));

        var svgs = SvgElement().Matches(Html).Select(m => XElement.Parse(m.Value)).ToList();

        // Eight charts and the topology drawing.
        Assert.Equal(9, svgs.Count);
        Assert.All(svgs, s => Assert.Equal(Svg + "svg", s.Name));
    }

    [Fact]
    public void Render_Fixture_HasNoExternalReferencesOrScripts()
    {
        var elements = Page.Descendants().Select(e => e.Name.LocalName).ToHashSet();
        foreach (var forbidden in new[] { "script", "link", "img", "iframe", "object", "embed", "image", "use", "a" })
        {
            Assert.DoesNotContain(forbidden, elements);
        }

        var references = Page.Descendants().Attributes().Where(a => a.Name.LocalName is "src" or "href" or "srcset" or "action").ToList();
        Assert.Empty(references);
        Assert.All(Url().Matches(Html), m => Assert.Equal(SvgChart.Namespace, m.Value));
        var style = Page.Root!.Element("head")!.Element("style")!.Value;
        Assert.DoesNotContain("url(", style, StringComparison.Ordinal);
        Assert.DoesNotContain("@import", style, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Fixture_EveryChartHasATitleAxisLabelsAndEveryPathInItsLegend()
    {
        var charts = Charts(Page);

        Assert.Equal(8, charts.Count);
        foreach (var chart in charts)
        {
            Assert.False(string.IsNullOrWhiteSpace(Title(chart)));
            Assert.Contains(chart.Descendants(Svg + "text"), t => (string?)t.Attribute("class") == "chart-title" && t.Value == Title(chart));
            foreach (var axis in new[] { "x-label", "y-label" })
            {
                var label = chart.Descendants(Svg + "text").Single(t => (string?)t.Attribute("class") == axis).Value;
                Assert.Matches(@"\((ms|req/s|s|MB/s|log scale)", label);
            }

            var legend = chart.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "legend-item").Select(g => (string?)g.Attribute("data-series"));
            Assert.Equal(PathIds, legend);
        }
    }

    [Fact]
    public void Render_Fixture_PolylinesHaveOnePointPerDataPoint()
    {
        var expected = new Dictionary<string, Func<string, int>>();
        foreach (var scenario in CompareSummary.ScenarioOrder)
        {
            expected[$"{scenario}: latency by percentile"] = path => CompareSummary.Spectrum(CompareSummary.Merge(Rounds(path, scenario).Select(r => r.CorrectedHistogram))).Count;
        }

        foreach (var scenario in new[] { "bulk", "upload" })
        {
            expected[$"{scenario}: throughput over time"] = path => Rounds(path, scenario).SelectMany(r => r.Timeline).Select(p => p.AtSeconds).Distinct().Count();
        }

        expected["http-small: p99 latency against offered rate"] = path => Results.Ladders[path].Count;

        var charts = Charts(Page);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), charts.Select(Title).Order(StringComparer.Ordinal));
        foreach (var chart in charts)
        {
            foreach (var path in PathIds)
            {
                var polyline = chart.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "series" && (string?)g.Attribute("data-series") == path).Element(Svg + "polyline")!;
                var points = ((string)polyline.Attribute("points")!).Split(' ');
                var count = expected[Title(chart)](path);
                Assert.True(count > 1, $"{Title(chart)} {path}: the fixture should give more than one point");
                Assert.True(count == points.Length, $"{Title(chart)} {path}: {points.Length} points drawn, {count} in the data");
                Assert.All(points, p => Assert.Matches(@"^\d+(\.\d)?,\d+(\.\d)?$", p));
            }
        }
    }

    [Fact]
    public void Render_Fixture_SpectrumOfHttpSmallReachesTheFourthNine()
    {
        var chart = Charts(Page).Single(c => Title(c) == "http-small: latency by percentile");
        var labels = chart.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "axes").Elements(Svg + "text").Select(t => t.Value).ToList();

        Assert.Equal(["0%", "90%", "99%", "99.9%", "99.99%"], labels.Where(l => l.EndsWith('%')));
    }

    [Fact]
    public void Render_Fixture_ScenarioTablesEqualTheMedianAndRangeOfTheRounds()
    {
        foreach (var scenario in CompareSummary.ScenarioOrder)
        {
            var table = $"scenario-{scenario}";
            foreach (var path in PathIds)
            {
                var rounds = Rounds(path, scenario);
                Assert.Equal(Expected(rounds.Select(r => r.Corrected.P50Ms), ReportFormat.Milliseconds), Cell(table, path, "p50"));
                Assert.Equal(Expected(rounds.Select(r => r.Corrected.P90Ms), ReportFormat.Milliseconds), Cell(table, path, "p90"));
                Assert.Equal(Expected(rounds.Select(r => r.Corrected.P99Ms), ReportFormat.Milliseconds), Cell(table, path, "p99"));
                Assert.Equal(Expected(rounds.Select(r => r.Corrected.P999Ms), ReportFormat.Milliseconds), Cell(table, path, "p99.9"));
                Assert.Equal(Expected(rounds.Select(r => r.Uncorrected.P99Ms), ReportFormat.Milliseconds), Cell(table, path, "p99-uncorrected"));
                Assert.Equal(Expected(rounds.Select(r => r.AchievedRate), ReportFormat.Rate), Cell(table, path, "rate"));
                Assert.Equal(Expected(rounds.Select(r => r.ThroughputMBps), ReportFormat.Throughput), Cell(table, path, "mbps"));

                var errors = rounds.Sum(r => r.Errors.Values.Sum());
                Assert.StartsWith(errors.ToString(CultureInfo.InvariantCulture), Cell(table, path, "errors"), StringComparison.Ordinal);

                if (path == "l3")
                {
                    Assert.Equal("—", Cell(table, path, "p50-vs-l3"));
                    Assert.Equal("—", Cell(table, path, "mbps-vs-l3"));
                    continue;
                }

                var l3 = Rounds("l3", scenario);
                var ratio = Median3(rounds.Select(r => r.Corrected.P99Ms)) / Median3(l3.Select(r => r.Corrected.P99Ms));
                Assert.Equal(ratio.ToString("0.00", CultureInfo.InvariantCulture) + "×", Cell(table, path, "p99-vs-l3"));
                var throughput = Median3(rounds.Select(r => r.ThroughputMBps)) / Median3(l3.Select(r => r.ThroughputMBps));
                Assert.Equal(throughput.ToString("0.00", CultureInfo.InvariantCulture) + "×", Cell(table, path, "mbps-vs-l3"));
            }
        }
    }

    [Fact]
    public void Render_Fixture_ErrorsShowCountAndShareOfRequests()
    {
        Assert.Equal("2 (0.01%)", Cell("scenario-https-small", "l7", "errors"));
        Assert.Equal("0", Cell("scenario-https-small", "l3", "errors"));
        Assert.Contains("l4 errors by class: connect 1, reset 1.", Html, StringComparison.Ordinal);
        Assert.Contains("l7: 14 late and 0 dropped sends", Html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Fixture_PathsTableShowsWhatEachPathIs()
    {
        foreach (var path in Results.Paths)
        {
            Assert.Equal(path.Title, Cell("paths", path.Id, "title"));
            Assert.Equal(path.Layer, Cell("paths", path.Id, "layer"));
            Assert.Equal(path.Client, Cell("paths", path.Id, "client"));
            Assert.Equal(path.SeenSource, Cell("paths", path.Id, "seen-source"));
            Assert.Equal(path.NewTcpConnection ? "yes" : "no", Cell("paths", path.Id, "new-tcp-connection"));
            Assert.Equal(path.ApplicationAllowlist ? "yes" : "no", Cell("paths", path.Id, "allowlist"));
        }
    }

    [Fact]
    public void Render_Fixture_PhasesAreTheMedianP50OfTheRounds()
    {
        foreach (var path in PathIds)
        {
            foreach (var phase in CompareSummary.PhaseOrder)
            {
                var values = Rounds(path, "new-connection").Where(r => r.Phases!.ContainsKey(phase)).Select(r => r.Phases![phase].P50Ms).ToList();
                var expected = values.Count == 0 ? "—" : ReportFormat.Milliseconds(Median3(values));
                Assert.Equal(expected, Cell("phases-new-connection", path, phase));
            }
        }

        Assert.Equal("—", Cell("phases-new-connection", "l3", "proxy-connect"));
    }

    [Fact]
    public void Render_Fixture_AccountingFlagsTheMismatchedPath()
    {
        var table = Page.Descendants("table").Single(t => (string?)t.Attribute("data-table") == "accounting");
        foreach (var row in Results.Accounting)
        {
            var tr = table.Descendants("tr").Single(r => (string?)r.Attribute("data-path") == row.PathId);
            Assert.Equal(row.Counted.ToString("#,0", CultureInfo.InvariantCulture), Cell("accounting", row.PathId, "counted"));
            Assert.Equal(row.Logged.ToString("#,0", CultureInfo.InvariantCulture), Cell("accounting", row.PathId, "logged"));
            var mismatched = row.Counted != row.Logged;
            Assert.Equal(mismatched, (string?)tr.Attribute("class") == "flagged");
            Assert.Equal(mismatched ? "MISMATCH" : "ok", Cell("accounting", row.PathId, "status"));
        }

        Assert.Equal("+3", Cell("accounting", "l7", "difference"));
    }

    [Fact]
    public void Render_Fixture_ShowsTheEnvironmentAndTheExactCommand()
    {
        var code = Page.Descendants("pre").Single().Element("code")!.Value;

        Assert.Equal(CompareFixture.Environment.Command, code);
        Assert.Contains("NAT &amp; proxy vs IGW", Html, StringComparison.Ordinal);
        var environment = Page.Descendants("dl").Single().Elements("dd").Select(d => d.Value).ToList();
        Assert.Equal(["Linux 6.8.0-1017-aws x86_64", "10.0.0", "2", "d756dfa", "2025-06-02 09:30:00 UTC", "3", "30 s"], environment);
    }

    [Fact]
    public void Render_NoLadders_LadderChartSaysNoRateLadderWasRun()
    {
        var page = Parse(HtmlReport.Render(Results with { Ladders = new Dictionary<string, IReadOnlyList<LadderStep>>() }));

        var chart = Charts(page).Single(c => Title(c) == "http-small: p99 latency against offered rate");

        Assert.Equal("no rate ladder was run", chart.Descendants(Svg + "text").Single(t => (string?)t.Attribute("class") == "empty").Value);
        Assert.Empty(chart.Descendants(Svg + "polyline"));
        Assert.DoesNotContain(page.Descendants("table"), t => (string?)t.Attribute("data-table") == "ladder");
    }

    [Fact]
    public void Render_MarkupInModelText_IsEscaped()
    {
        var odd = Results with { Paths = [Results.Paths[0] with { Title = "<script>alert(1)</script> & co" }, .. Results.Paths.Skip(1)] };

        var html = HtmlReport.Render(odd);
        var page = Parse(html);

        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Empty(page.Descendants("script"));
        Assert.Contains(page.Descendants("td"), td => td.Value == "<script>alert(1)</script> & co");
    }
}
