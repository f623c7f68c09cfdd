using System.Xml.Linq;
using EgressLab.LoadTests.Cli;
using EgressLab.LoadTests.Cost;
using EgressLab.LoadTests.Reports;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Tests.Reports;

/// <summary>The top of the report: the topology drawing, the verdict table, and the monthly cost section.</summary>
public sealed class SummaryReportTests
{
    private static readonly XNamespace Svg = SvgChart.Namespace;
    private static readonly CompareResults Results = CompareFixture.Create();
    private static readonly CostEstimate Cost = CostSettings.Read("2TB/month", null, null, null, null, null, [])!;

    private static XDocument Parse(string html) => HtmlReportTests.Parse(html);

    private static XElement Table(XDocument page, string name) =>
        page.Descendants("table").Single(t => (string?)t.Attribute("data-table") == name);

    private static string Cell(XDocument page, string table, string path, string column) =>
        Table(page, table).Descendants("tr").Single(r => (string?)r.Attribute("data-path") == path)
            .Elements("td").Single(d => (string?)d.Attribute("data-column") == column).Value;

    private static XElement Topology(XDocument page) => page.Descendants(Svg + "svg").Single(s => (string?)s.Attribute("class") == "topology");

    private static List<string?> Named(XElement svg, string kind) =>
        svg.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == kind).Select(g => (string?)g.Attribute("data-name") ?? (string?)g.Attribute("data-path")).ToList();

    [Fact]
    public void Render_Fixture_SummaryIsTheFirstSectionWithTheDrawingAndTheVerdict()
    {
        var page = Parse(HtmlReport.Render(Results, Cost));

        var first = page.Descendants("section").First();
        Assert.Equal("summary", (string?)first.Attribute("id"));
        Assert.Single(first.Descendants(Svg + "svg"), s => (string?)s.Attribute("class") == "topology");
        Assert.Single(first.Descendants("table"), t => (string?)t.Attribute("data-table") == "verdict");
    }

    [Fact]
    public void Render_Fixture_DrawsSubnetsRouteTablesDevicesAndOneRoutePerPath()
    {
        var svg = Topology(Parse(HtmlReport.Render(Results)));

        Assert.Equal(["vpc", "private-subnet", "public-subnet", "internet"], Named(svg, "area"));
        Assert.Equal(["private-route-table", "public-route-table"], Named(svg, "route-table"));
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "0.0.0.0/0 → NAT instance");
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "0.0.0.0/0 → IGW");
        Assert.Equal(["private-1", "nlb", "proxy", "public-1", "nat-instance", "igw"], Named(svg, "device"));
        Assert.Equal(["l3", "l4", "l7"], Named(svg, "route"));
        Assert.Equal(["l3", "l4", "l7"], Named(svg, "legend-item"));
        Assert.Equal(3, svg.Descendants(Svg + "polyline").Select(p => (string?)p.Attribute("stroke")).Distinct().Count());
    }

    [Fact]
    public void Render_NatGatewayPath_DrawsTheGatewayItsRouteAndItsDefaultRoute()
    {
        var natgw = new EgressPath("l4-natgw", "L4", "NAT gateway", "private-2", "203.0.113.14:1024", NewTcpConnection: false, ApplicationAllowlist: false);
        var squid = Results.Paths[2] with { Id = "l7-squid", Title = "Squid" };
        var results = Results with { Paths = [Results.Paths[0], Results.Paths[1], natgw, Results.Paths[2], squid] };

        var page = Parse(HtmlReport.Render(results, Cost));
        var svg = Topology(page);

        Assert.Contains("nat-gateway", Named(svg, "device"));
        Assert.Equal(["l3", "l4", "l4-natgw", "l7"], Named(svg, "route"));
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "(l4-natgw: 0.0.0.0/0 → NAT gateway)");
        var legend = svg.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "legend-item" && (string?)g.Attribute("data-path") == "l7");
        Assert.StartsWith("l7, l7-squid: NLB → proxy fleet", legend.Value, StringComparison.Ordinal);

        // 730 × 0.045 + 2,000 × 0.045 + 730 × 0.005 + 2,000 × 0.09 = 32.85 + 90 + 3.65 + 180.
        Assert.Equal("$306.50", Cell(page, "verdict", "l4-natgw", "cost"));
        Assert.Equal("—", Cell(page, "verdict", "l4-natgw", "p50"));
        Assert.Equal(Cell(page, "verdict", "l7", "cost"), Cell(page, "verdict", "l7-squid", "cost"));
    }

    [Fact]
    public void Render_Fixture_VerdictShowsEachPathsFiguresAddressFailoverAndCost()
    {
        var page = Parse(HtmlReport.Render(Results, Cost));
        var https = CompareSummary.Of(Results).Scenarios.Single(s => s.Scenario == "https-small");
        var bulk = CompareSummary.Of(Results).Scenarios.Single(s => s.Scenario == "bulk");

        foreach (var path in Results.Paths)
        {
            Assert.Equal(ReportFormat.Milliseconds(https.Paths.Single(p => p.Path == path).Figures!.P50.Median), Cell(page, "verdict", path.Id, "p50"));
            Assert.Equal(ReportFormat.Milliseconds(https.Paths.Single(p => p.Path == path).Figures!.P99.Median), Cell(page, "verdict", path.Id, "p99"));
            Assert.Equal(ReportFormat.Throughput(bulk.Paths.Single(p => p.Path == path).Figures!.ThroughputMBps.Median), Cell(page, "verdict", path.Id, "mbps"));
            Assert.Equal(path.ApplicationAllowlist ? "yes" : "no", Cell(page, "verdict", path.Id, "allowlist"));
            Assert.StartsWith(path.SeenSource, Cell(page, "verdict", path.Id, "seen-source"), StringComparison.Ordinal);
            Assert.NotEqual("—", Cell(page, "verdict", path.Id, "failover"));
        }

        // Hand-worked in CostModelTests: 187.30, 191.882, 251.955.
        Assert.Equal("$187.30", Cell(page, "verdict", "l3", "cost"));
        Assert.Equal("$191.88", Cell(page, "verdict", "l4", "cost"));
        Assert.Equal("$251.96", Cell(page, "verdict", "l7", "cost"));
        Assert.Contains("NAT instance's address", Cell(page, "verdict", "l4", "seen-source"), StringComparison.Ordinal);
        Assert.Contains("a single instance", Cell(page, "verdict", "l4", "failover"), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NoTraffic_VerdictSaysHowToGetCostsAndThereIsNoCostSection()
    {
        var html = HtmlReport.Render(Results);
        var page = Parse(html);

        Assert.All(Results.Paths, p => Assert.Equal("—", Cell(page, "verdict", p.Id, "cost")));
        Assert.Contains("give --traffic (such as --traffic 2TB/month) to price each path", html, StringComparison.Ordinal);
        Assert.DoesNotContain(page.Descendants("section"), s => (string?)s.Attribute("id") == "cost");
    }

    [Fact]
    public void Render_Traffic_CostSectionHasEveryDesignsLinesTotalAssumptionsAndBreakEven()
    {
        var html = HtmlReport.Render(Results, Cost);
        var page = Parse(html);
        var rows = Table(page, "cost").Descendants("tr").Where(r => r.Attribute("data-path") is not null).ToList();

        Assert.Equal(["l3", "l4", "l4-natgw", "l7"], rows.Select(r => (string?)r.Attribute("data-path")).Distinct());
        string Column(XElement row, string column) => row.Elements("td").Single(d => (string?)d.Attribute("data-column") == column).Value;
        var totals = rows.Where(r => (string?)r.Attribute("class") == "total").ToList();
        Assert.All(totals, t => Assert.Equal("total", Column(t, "charge")));
        Assert.Equal(["l3: Internet Gateway, a public address per instance", "l4: NAT instance", "l4-natgw: NAT gateway", "l7: proxy fleet behind an NLB"], rows.Select(r => Column(r, "design")).Where(d => d.Length > 0));
        Assert.Equal(["$187.30", "$191.88", "$306.50", "$251.96"], totals.Select(t => Column(t, "monthly")));

        // Half a cent rounds up, so the lines add up to the total as printed: 730 × 0.0225 = 16.425.
        Assert.Equal("$16.43", Column(rows.Single(r => Column(r, "charge") == "Network Load Balancer"), "monthly"));
        Assert.Contains("2 TB/month (2,000 GB (2 TB))", html, StringComparison.Ordinal);
        Assert.Contains("as of 2025-06-01, from deploy/pricing/aws-us-east-1.json", html, StringComparison.Ordinal);
        Assert.Contains("The 1 × t3.micro NAT instance costs less than a NAT gateway at every volume", html, StringComparison.Ordinal);
        Assert.Contains("With a standby for availability (--nat-instances 2): the 2 × t3.micro NAT instances cost less", html, StringComparison.Ordinal);
    }

    [Fact]
    public void BreakEvenSentence_LargeInstances_GivesTheVolumeAndWhichSideIsCheaper()
    {
        var sentence = SummaryTables.BreakEvenSentence(CostModel.BreakEvenOf(PriceTable.Default, "c7gn.medium", 2));

        Assert.Equal(
            "NAT gateway and 2 × c7gn.medium NAT instances cost the same at 1,404.1 GB (1.4 TB) a month: below that the gateway costs less, above it "
            + "the instances (the gateway costs $36.50 a month plus $0.045 per GB processed, the 2 × c7gn.medium NAT instances $99.68 a month whatever passes).",
            sentence);
    }

    [Fact]
    public void MarkdownRender_Traffic_HasTheVerdictFirstAndTheCostSection()
    {
        var text = MarkdownReport.Render(Results, Cost);

        Assert.True(text.IndexOf("## Summary", StringComparison.Ordinal) < text.IndexOf("## How to read this", StringComparison.Ordinal));
        Assert.Contains("| l4 (L4) |", text, StringComparison.Ordinal);
        Assert.Contains("## Monthly cost", text, StringComparison.Ordinal);
        Assert.Contains("| l4-natgw: NAT gateway | NAT gateway hours | 730 h × $0.045 | $32.85 |", text, StringComparison.Ordinal);
        Assert.Contains("|  | total |  | $306.50 |", text, StringComparison.Ordinal);
    }
}
