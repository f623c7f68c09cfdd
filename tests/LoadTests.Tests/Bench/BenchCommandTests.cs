using System.Text.Json;
using EgressLab.LoadTests.Bench;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Tests.Bench;

public sealed class BenchCommandTests : IDisposable
{
    private static readonly string[] BenchTools = ["nginx", "squid", "wrk"];

    private readonly string _directory = Directory.CreateTempSubdirectory("egress-bench-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] arguments)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await Program.RunAsync(arguments, output, error, _ => null, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("--figures", "http-2k", "--figures: 'http-2k' is not a figure; choose from http-1k, http-10m, https-10m, http-upload-1m, http-upload-100m, https-upload-1m, https-upload-100m, new-tunnels, idle-tunnels, policy.")]
    [InlineData("--figures", ",", "--figures is empty: name at least one figure.")]
    [InlineData("--rounds", "0", "--rounds '0' must be a whole number from 1 to 100.")]
    [InlineData("--idle-tunnels", "ten", "--idle-tunnels 'ten' must be a whole number from 1 to 100,000.")]
    [InlineData("--duration", "500ms", "--duration '500ms' must be a duration from 1s to 1h: use 500ms, 20s, 1.5s, 2m, 1h or 00:00:20.")]
    [InlineData("--warmup", "soon", "--warmup 'soon' must be a duration from 0s to 1h: use 500ms, 20s, 1.5s, 2m, 1h or 00:00:20.")]
    [InlineData("--idle-hold", "2h", "--idle-hold '2h' must be a duration from 1s to 1h: use 500ms, 20s, 1.5s, 2m, 1h or 00:00:20.")]
    public async Task Bench_BadArgument_ExitsTwoAndSaysHowToFixIt(string option, string value, string message)
    {
        var (code, output, error) = await RunAsync("bench", option, value, "--out", Path.Combine(_directory, "out"));

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal($"error: {message}\n", error);
        Assert.Empty(output);
        Assert.False(Directory.Exists(Path.Combine(_directory, "out")), "nothing is written for bad input");
    }

    [Fact]
    public async Task Bench_OutIsAFile_ExitsTwo()
    {
        var file = Path.Combine(_directory, "taken");
        await File.WriteAllTextAsync(file, "x", TestContext.Current.CancellationToken);

        var (code, _, error) = await RunAsync("bench", "--out", file);

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("is a file: give a directory", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Unclean_ErrorsFailuresAndDeadTunnels_NameTheirFigures()
    {
        List<BenchCell> cells =
        [
            new(BenchFigures.Http1k, BenchSubjects.Proxy, 1, 10, 1, 10, 0, null),
            new(BenchFigures.Http10m, BenchSubjects.Squid, 1, 10, 1, 10, 2, "read 2"),
        ];
        var failures = new Dictionary<string, string> { [BenchFigures.NewTunnels] = "no results" };

        Assert.Equal([BenchFigures.Http10m, BenchFigures.NewTunnels], BenchRunner.Unclean(cells, null, failures));
        Assert.Empty(BenchRunner.Unclean(cells.Take(1).ToList(), null, new Dictionary<string, string>()));
    }

    [Theory]
    [InlineData(true, "http-upload-100m", 1, 5)]
    [InlineData(true, "https-upload-100m", 1, 5)]
    [InlineData(true, "https-upload-100m", 8, 8)]
    [InlineData(true, "http-upload-1m", 1, 1)]
    [InlineData(true, "https-10m", 1, 1)]
    [InlineData(false, "http-upload-100m", 1, 1)]
    [InlineData(false, "https-upload-100m", 10, 10)]
    public void CellDurationOf_QuickRun_GivesTheLargeUploadsTimeForWholeRequests(bool quick, string figure, int seconds, int expectedSeconds)
    {
        var options = new BenchOptions(BenchFigures.All, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(1), 1, 300, TimeSpan.FromSeconds(3),
            _directory, DebugBuild: true, Quick: quick, CommandLine: "bench");

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), options.CellDurationOf(figure));
    }

    /// <summary>
    /// The whole bench, as a user runs it but short (--quick) and on this Debug build: nginx, Squid and the proxy start
    /// and stop, every figure is measured on every subject without an error, and both files say so. No figure's value
    /// is judged here: timings belong to the bench, not to tests.
    /// </summary>
    [Fact]
    public async Task Bench_Quick_MeasuresEveryFigureOnEverySubjectAndWritesBothFiles()
    {
        var missing = BenchTools.Where(t => Requirements.FindOnPath(t) is null).ToList();
        Requirements.SkipUnless(missing.Count == 0, $"bench needs {string.Join(", ", missing)} (.ci/run installs them)");
        var outDirectory = Path.Combine(_directory, "out");

        var (code, output, error) = await RunAsync("bench", "--quick", "--debug-build", "--out", outDirectory);

        Assert.True(code == ExitCodes.Ok, $"bench exited {code}:\n{error}\n{output}");
        var results = JsonSerializer.Deserialize<BenchResults>(await File.ReadAllTextAsync(Path.Combine(outDirectory, "bench.json"), TestContext.Current.CancellationToken), ResultsJson.Options)!;
        string[] loadFigures = [BenchFigures.Http1k, BenchFigures.Http10m, BenchFigures.Https10m, .. BenchFigures.Uploads, BenchFigures.NewTunnels];
        foreach (var figure in loadFigures)
        {
            foreach (var subject in BenchSubjects.All)
            {
                var cell = Assert.Single(results.Cells, c => c.Figure == figure && c.Subject == subject);
                Assert.Equal(0, cell.Errors);
                Assert.True(cell.Value > 0 && cell.Requests > 0, $"{figure} via {subject}: {cell}");
            }
        }

        Assert.Empty(results.Failures);
        var loadRows = results.Rows.Where(r => r.Figure != BenchFigures.IdleTunnels && r.Figure != BenchFigures.PolicyDecision).ToList();
        // Every target judged; the CPU lines (no target) only informed, with both proxies' times.
        Assert.All(loadRows.Where(r => r.Target.Length > 0), r => Assert.True(r.Ratio is > 0 && r.Met is not null, $"{r.Title}: {r}"));
        Assert.Equal(["  proxy CPU per request", "  proxy allocated per request", "  proxy CPU per 10 MiB object", "  proxy allocated per tunnel"],
            loadRows.Where(r => r.Target.Length == 0).Select(r => r.Title));
        Assert.All(loadRows.Where(r => r.Title.Contains("CPU", StringComparison.Ordinal)), r => Assert.True(r.Proxy > 0 && r.Squid > 0, $"{r.Title}: {r}"));
        // CPU per tunnel is judged against Squid's (at most 0.67 ×); CPU per request only informs.
        Assert.NotNull(Assert.Single(loadRows, r => r.Title == "  proxy CPU per tunnel").Met);
        Assert.Null(Assert.Single(loadRows, r => r.Title == "  proxy CPU per request").Met);
        // Read from the proxy's /metrics: a request allocates something, and far less than a megabyte.
        Assert.All(loadRows.Where(r => r.Title.Contains("allocated", StringComparison.Ordinal)), r => Assert.True(r.Proxy is > 0 and < 1 << 20 && r.Squid is null, $"{r.Title}: {r}"));
        Assert.False(results.Settings.Optimized);
        Assert.StartsWith("Squid Cache: Version", results.Settings.Squid, StringComparison.Ordinal);
        var markdown = await File.ReadAllTextAsync(Path.Combine(outDirectory, "bench.md"), TestContext.Current.CancellationToken);
        Assert.StartsWith("| figure | unit | proxy | Squid | direct |", markdown, StringComparison.Ordinal);
        Assert.Contains("Command: `load-tests bench --quick --debug-build --out ", markdown, StringComparison.Ordinal);
        // The quick run's 100 MiB upload cells last longer than its others, and both files say so.
        Assert.Equal(1, results.Settings.CellDurationSeconds);
        Assert.Equal(BenchOptions.QuickLargeUploadCell.TotalSeconds, results.Settings.LargeUploadCellDurationSeconds);
        Assert.Contains("rounds of 1 s cells (5 s for the 100 MiB uploads)", markdown, StringComparison.Ordinal);
        Assert.Contains("plain HTTP keep-alive, 1 KiB, 32 connections", output, StringComparison.Ordinal);
        // Each upload is judged against a direct connection and against Squid, and moved what it says: the origin
        // answers only once it has read the whole body, so a cell's bytes are its requests' bodies.
        foreach (var upload in BenchFigures.Uploads)
        {
            Assert.Equal([BenchSubjects.Direct, BenchSubjects.Squid], results.Rows.Where(r => r.Figure == upload).Select(r => r.Reference));
        }

        var workspace = System.Text.RegularExpressions.Regex.Match(output, @"on 127\.0\.0\.1, in (\S+)").Groups[1].Value;
        Assert.NotEmpty(workspace);
        Assert.False(Directory.Exists(workspace), $"{workspace} is left behind");
    }
}
