using EgressLab.LoadTests.Bench;

namespace EgressLab.LoadTests.Tests.Bench;

public sealed class BenchTableTests
{
    private static readonly Dictionary<string, string> NoFailures = [];

    private static BenchCell Cell(string figure, string subject, int round, double value, double? p99 = null, long errors = 0) =>
        new(figure, subject, round, value, p99, 1000, errors, errors > 0 ? "read 3" : null);

    /// <summary>Three rounds of http-1k: the proxy at 20k, 22k, 30k req/s, Squid at 10k, 11k, 9k.</summary>
    private static List<BenchCell> SmallRounds(double proxyP99 = 3) =>
    [
        Cell(BenchFigures.Http1k, BenchSubjects.Proxy, 1, 20_000, proxyP99), Cell(BenchFigures.Http1k, BenchSubjects.Squid, 1, 10_000, 4),
        Cell(BenchFigures.Http1k, BenchSubjects.Direct, 1, 50_000, 1),
        Cell(BenchFigures.Http1k, BenchSubjects.Proxy, 2, 22_000, proxyP99), Cell(BenchFigures.Http1k, BenchSubjects.Squid, 2, 11_000, 5),
        Cell(BenchFigures.Http1k, BenchSubjects.Direct, 2, 40_000, 2),
        Cell(BenchFigures.Http1k, BenchSubjects.Proxy, 3, 30_000, proxyP99), Cell(BenchFigures.Http1k, BenchSubjects.Squid, 3, 9_000, 6),
        Cell(BenchFigures.Http1k, BenchSubjects.Direct, 3, 45_000, 3),
    ];

    [Fact]
    public void Rows_ThreeRounds_UseTheMedianOfEachSubjectAndDivideByTheReference()
    {
        var rows = BenchTable.Rows(SmallRounds(), null, null, NoFailures);

        var rate = rows[0];
        Assert.Equal((22_000.0, 10_000.0, 45_000.0), (rate.Proxy!.Value, rate.Squid!.Value, rate.Direct!.Value));
        Assert.Equal(2.2, rate.Ratio!.Value, 6);
        Assert.Equal("≥ 2 × Squid", rate.Target);
        Assert.True(rate.Met);
        var p99 = rows[1];
        Assert.Equal((3.0, 5.0), (p99.Proxy!.Value, p99.Squid!.Value));
        Assert.Equal("≤ Squid", p99.Target);
        Assert.True(p99.Met);
    }

    [Fact]
    public void Rows_RatioUnderTarget_IsMissed()
    {
        var cells = SmallRounds(proxyP99: 7).Select(c => c.Subject == BenchSubjects.Proxy ? c with { Value = 15_000 } : c).ToList();

        var rows = BenchTable.Rows(cells, null, null, NoFailures);

        Assert.Equal(1.5, rows[0].Ratio!.Value, 6);
        Assert.False(rows[0].Met);
        Assert.False(rows[1].Met);
    }

    [Fact]
    public void Rows_CellWithErrors_IsNotJudgedAndSaysWhy()
    {
        var cells = SmallRounds();
        cells[1] = cells[1] with { Errors = 12, ErrorDetail = "read 12" };

        var rows = BenchTable.Rows(cells, null, null, NoFailures);

        Assert.Null(rows[0].Met);
        Assert.Equal("squid: 12 errors (read 12)", rows[0].Note);
    }

    [Fact]
    public void Rows_HttpsFigure_IsJudgedAgainstDirect()
    {
        List<BenchCell> cells =
        [
            Cell(BenchFigures.Https10m, BenchSubjects.Proxy, 1, 950), Cell(BenchFigures.Https10m, BenchSubjects.Squid, 1, 500),
            Cell(BenchFigures.Https10m, BenchSubjects.Direct, 1, 1000),
        ];

        var row = Assert.Single(BenchTable.Rows(cells, null, null, NoFailures));

        Assert.Equal(BenchSubjects.Direct, row.Reference);
        Assert.Equal(0.95, row.Ratio!.Value, 6);
        Assert.Equal("≥ 0.95 × direct", row.Target);
        Assert.True(row.Met);
    }

    [Fact]
    public void Rows_FigureThatFailedToRun_KeepsItsLineWithTheReason()
    {
        var failures = new Dictionary<string, string> { [BenchFigures.NewTunnels] = "squid: run wrote no results" };

        var row = Assert.Single(BenchTable.Rows([], null, null, failures));

        Assert.Equal(BenchFigures.NewTunnels, row.Figure);
        Assert.Null(row.Met);
        Assert.Equal("squid: run wrote no results", row.Note);
    }

    [Fact]
    public void Rows_PolicyDecision_IsJudgedOnlyWhenTheBuildIsOptimised()
    {
        var result = new MicroBenchmarkResult("policy decision", 1_000_000, 15, 150, 149, 3, 1.5, 140, 170, 0, Optimized: true);

        var optimised = Assert.Single(BenchTable.Rows([], null, result, NoFailures));
        var debug = Assert.Single(BenchTable.Rows([], null, result with { Optimized = false }, NoFailures));

        Assert.True(optimised.Met);
        Assert.Null(debug.Met);
        Assert.Contains("not an optimised build", debug.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_HttpsBulkCpuTimes_AddAnInformationalLineUnderTheFigure()
    {
        List<BenchCell> cells =
        [
            Cell(BenchFigures.Https10m, BenchSubjects.Proxy, 1, 950) with { ServerCpuMicroseconds = 6_000 },
            Cell(BenchFigures.Https10m, BenchSubjects.Squid, 1, 900) with { ServerCpuMicroseconds = 12_000 },
            Cell(BenchFigures.Https10m, BenchSubjects.Direct, 1, 1000),
        ];

        var rows = BenchTable.Rows(cells, null, null, NoFailures);

        Assert.Equal(["HTTPS through CONNECT, 10 MiB objects, 4 connections", "  proxy CPU per 10 MiB object"], rows.Select(r => r.Title));
        Assert.Equal((6_000.0, 12_000.0, 0.5), (rows[1].Proxy!.Value, rows[1].Squid!.Value, rows[1].Ratio!.Value));
        Assert.Null(rows[1].Met);
    }

    [Fact]
    public void Rows_ServerCpuTimes_AddAnInformationalLineWithoutAVerdict()
    {
        var cells = SmallRounds().Select(c => c.Subject switch
        {
            BenchSubjects.Proxy => c with { ServerCpuMicroseconds = 30 + c.Round },
            BenchSubjects.Squid => c with { ServerCpuMicroseconds = 80 },
            _ => c,
        }).ToList();

        var rows = BenchTable.Rows(cells, null, null, NoFailures);

        var cpu = rows[2];
        Assert.Equal(("  proxy CPU per request", "µs"), (cpu.Title, cpu.Unit));
        Assert.Equal((32.0, 80.0), (cpu.Proxy!.Value, cpu.Squid!.Value));
        Assert.Equal(0.4, cpu.Ratio!.Value, 6);
        Assert.Null(cpu.Met);
        Assert.EndsWith("0.40 × Squid", BenchTable.Text(rows).Split('\n')[3], StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_ProxyAllocations_AddAProxyOnlyLineUnderTheCpuLine()
    {
        var cells = SmallRounds().Select(c => c.Subject == BenchSubjects.Proxy
            ? c with { ServerCpuMicroseconds = 30, AllocatedBytes = 3000 + (100 * c.Round) }
            : c with { ServerCpuMicroseconds = c.Subject == BenchSubjects.Squid ? 80 : null }).ToList();

        var rows = BenchTable.Rows(cells, null, null, NoFailures);

        var allocated = rows[3];
        Assert.Equal(("  proxy allocated per request", "B"), (allocated.Title, allocated.Unit));
        Assert.Equal(3200.0, allocated.Proxy);
        Assert.Equal((null, null, null, null), (allocated.Squid, allocated.Ratio, allocated.Met, allocated.Reference));
        Assert.DoesNotContain(rows, r => r.Title == "  proxy allocated per tunnel");
    }

    [Theory]
    [InlineData("# TYPE dotnet_gc_heap_total_allocated_bytes_total counter\ndotnet_gc_heap_total_allocated_bytes_total 123456789\n", 123456789.0)]
    [InlineData("# TYPE dotnet_gc_heap_total_allocated_bytes_total counter\ndotnet_gc_heap_total_allocated_bytes_total{} 35453296\n", 35453296.0)]
    [InlineData("dotnet_gc_heap_total_allocated_bytes_total_other 5\ndotnet_gc_heap_total_allocated_bytes_total 1.5e9\r\n", 1.5e9)]
    [InlineData("proxy_requests_total 3\n", null)]
    [InlineData("dotnet_gc_allocated_bytes_total 5\n", null)]
    [InlineData("dotnet_gc_heap_total_allocated_bytes_total NaNx\n", null)]
    public void ProxyAllocations_Parse_ReadsTheUnlabelledSample(string exposition, double? expected)
    {
        Assert.Equal(expected, ProxyAllocations.Parse(exposition));
    }

    [Fact]
    public async Task ProxyAllocations_ReadAsync_ReadsTheRealProxysCounter()
    {
        var token = TestContext.Current.CancellationToken;
        await using var proxy = await EgressLab.ProxyInstance.Tests.TestHost.ProxyServer.StartAsync(
            EgressLab.ProxyInstance.Tests.TestHost.ProxyServer.Config(EgressLab.ProxyInstance.Tests.TestHost.ProxyServer.AllowAll(80)),
            new EgressLab.ProxyInstance.Tests.TestHost.TestNetwork());

        var first = await ProxyAllocations.ReadAsync(proxy.AdminEndPoint.Port, token);
        var second = await ProxyAllocations.ReadAsync(proxy.AdminEndPoint.Port, token);

        Assert.True(first > 0, $"read {first}");
        Assert.True(second > first, $"a scrape allocates, yet the counter went from {first} to {second}");
    }

    [Fact]
    public void ProxyAllocations_PerRequest_NeedsBothReadingsAndRequests()
    {
        Assert.Equal(250.0, ProxyAllocations.PerRequest(1000, 3500, 10));
        Assert.Null(ProxyAllocations.PerRequest(null, 3500, 10));
        Assert.Null(ProxyAllocations.PerRequest(1000, null, 10));
        Assert.Null(ProxyAllocations.PerRequest(1000, 3500, 0));
        Assert.Null(ProxyAllocations.PerRequest(3500, 1000, 10));
    }

    [Fact]
    public void Text_AlignsColumnsAndPutsNotesUnderTheirRow()
    {
        var cells = SmallRounds();
        cells[1] = cells[1] with { Errors = 12, ErrorDetail = "read 12" };

        var lines = BenchTable.Text(BenchTable.Rows(cells, null, null, NoFailures)).TrimEnd('\n').Split('\n');

        Assert.StartsWith("figure", lines[0], StringComparison.Ordinal);
        Assert.Equal(lines[0].IndexOf("unit", StringComparison.Ordinal), lines[1].IndexOf("req/s", StringComparison.Ordinal));
        Assert.Equal("    squid: 12 errors (read 12)", lines[2]);
        Assert.All(lines, l => Assert.False(l.EndsWith(' '), $"'{l}' ends with a space"));
        Assert.EndsWith("not judged", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_OneLinePerRowWithANoteColumn()
    {
        var markdown = BenchTable.Markdown(BenchTable.Rows(SmallRounds(), null, null, NoFailures));
        var lines = markdown.TrimEnd('\n').Split('\n');

        Assert.Equal(4, lines.Length);
        Assert.Equal("| figure | unit | proxy | Squid | direct | ratio | target | | note |", lines[0]);
        Assert.Equal("| plain HTTP keep-alive, 1 KiB, 32 connections | req/s | 22,000 | 10,000 | 45,000 | 2.20 × Squid | ≥ 2 × Squid | met |  |", lines[2]);
        Assert.StartsWith("| ↳ its p99 latency | ms | 3.00 | 5.00 |", lines[3], StringComparison.Ordinal);
    }
}
