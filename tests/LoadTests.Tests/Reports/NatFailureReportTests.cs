using EgressLab.LoadTests.Reports;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Tests.Reports;

/// <summary>The NAT failure section of report.md and report.html (compare --nat-failure).</summary>
public sealed class NatFailureReportTests
{
    private static CompareResults WithFailure(params PathOutage[] paths) => CompareFixture.Create() with
    {
        NatFailure = new NatFailureResults("kill", 5.0, 10.1, 0.25, 1, paths),
    };

    [Fact]
    public void Render_NatFailure_TablesEachPathsOutageAndSaysWhatTheProxyPathDid()
    {
        var results = WithFailure(new PathOutage("l4", 80, 21, 5.25, true, 2, 2), new PathOutage("l7", 80, 20, 5.5, true, 2, 1));

        var md = MarkdownReport.Render(results);
        var html = HtmlReport.Render(results);

        Assert.Contains("## NAT instance failure", md, StringComparison.Ordinal);
        Assert.Contains("| l4 | 80 | 21 | 5.25 s | 2 | 2 |", md, StringComparison.Ordinal);
        Assert.Contains("| l7 | 80 | 20 | 5.5 s | 2 | 1 |", md, StringComparison.Ordinal);
        Assert.Contains("The proxy path (l7) went down as well", md, StringComparison.Ordinal);
        Assert.Contains("failed at 5.0 s, forwarding again 5.1 s later", md, StringComparison.Ordinal);
        Assert.Contains("<section id=\"nat-failure\">", html, StringComparison.Ordinal);
        Assert.Contains("The proxy path (l7) went down as well", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ProxyPathUntouchedAndNatNeverRecovered_SaysSoAndFlagsTheRow()
    {
        var table = NatFailureTables.Table(WithFailure(new PathOutage("l4", 40, 30, null, false, 2, 2), new PathOutage("l7", 40, 0, 0, true, 2, 0)).NatFailure!);

        var l4 = Assert.Single(table.Rows, r => r.Key == "l4");
        Assert.Equal("not recovered", l4.Cells[3]);
        Assert.True(l4.Flagged);
        Assert.False(Assert.Single(table.Rows, r => r.Key == "l7").Flagged);
        Assert.Contains("The proxy path (l7) kept working throughout", NatFailureTables.Description(WithFailure(new PathOutage("l7", 40, 0, 0, true, 2, 0)).NatFailure!), StringComparison.Ordinal);
    }

    [Fact]
    public void Verdict_NatFailureRun_FailoverCellAddsEachPathsMeasuredOutage()
    {
        var results = WithFailure(new PathOutage("l4", 80, 21, 5.25, true, 2, 2), new PathOutage("l7", 40, 30, null, false, 2, 1));
        var summary = CompareSummary.Of(results);

        var rows = SummaryTables.Verdict(summary, cost: null).Rows;
        var failover = rows.Select(r => (r.Key, Cell: r.Cells[6])).ToDictionary(r => r.Key, r => r.Cell);

        Assert.EndsWith("Measured: 5.25 s without egress, 2 of 2 held transfers lost", failover["l4"], StringComparison.Ordinal);
        Assert.StartsWith("a single instance", failover["l4"], StringComparison.Ordinal);
        Assert.EndsWith("Measured: egress did not come back, 1 of 2 held transfers lost", failover["l7"], StringComparison.Ordinal);
        Assert.DoesNotContain("Measured", failover["l3"], StringComparison.Ordinal);
        Assert.Contains("then what this run measured when it killed the NAT instance", SummaryTables.VerdictDescription(summary, cost: null), StringComparison.Ordinal);
        Assert.Contains("not measured by this run (compare --nat-failure measures it)", SummaryTables.VerdictDescription(CompareSummary.Of(CompareFixture.Create()), cost: null), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NoNatFailureRun_HasNoSection()
    {
        Assert.DoesNotContain("NAT instance failure", MarkdownReport.Render(CompareFixture.Create()), StringComparison.Ordinal);
        Assert.DoesNotContain("<section id=\"nat-failure\">", HtmlReport.Render(CompareFixture.Create()), StringComparison.Ordinal);
    }
}
