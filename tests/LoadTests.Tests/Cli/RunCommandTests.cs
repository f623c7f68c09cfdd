using EgressLab.LoadTests.Cli;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Tests.TestHost;

namespace EgressLab.LoadTests.Tests.Cli;

/// <summary>The <c>run</c> command as a user (or <c>compare</c>) runs it: exit codes, messages, the table and the JSON.</summary>
public class RunCommandTests(LabFixture lab) : IClassFixture<LabFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("run --url www.lab.test", "--scenario")]
    [InlineData("run --scenario http-small", "--url")]
    [InlineData("run --scenario nope --url www.lab.test", "use one of http-small, https-small, new-connection, bulk, upload")]
    [InlineData("run --scenario http-small --url www.lab.test --duration 5x", "write 500ms, 20s, 1.5s, 2m, 1h or 00:00:20")]
    [InlineData("run --scenario http-small --url www.lab.test --warmup -1s", "--warmup '-1s' is not a duration")]
    [InlineData("run --scenario http-small --url www.lab.test --timeout 0s", "--timeout '0s' is not a duration")]
    [InlineData("run --scenario http-small --url www.lab.test --rate 10 --concurrency 2", "--rate and --concurrency exclude each other")]
    [InlineData("run --scenario http-small --url www.lab.test --rate fast", "--rate 'fast' is not a positive number")]
    [InlineData("run --scenario http-small --url www.lab.test --concurrency 0", "--concurrency '0' is not a whole number from 1")]
    [InlineData("run --scenario http-small --url www.lab.test --ladder 100,50", "rising rates")]
    [InlineData("run --scenario http-small --url www.lab.test --ladder 50,100 --rate 10", "--ladder runs the open model")]
    [InlineData("run --scenario http-small --url www.lab.test --max-in-flight 10", "--max-in-flight bounds the open model")]
    [InlineData("run --scenario new-connection --url www.lab.test --rate 5 --connections 1", "does not apply to new-connection")]
    [InlineData("run --scenario http-small --url www.lab.test --assert p95<1ms", "unknown metric 'p95'; write METRIC OP VALUE")]
    [InlineData("run --scenario http-small --url www.lab.test --assert p99<5parsecs", "unit 'parsecs' for p99; its unit is ms or s")]
    [InlineData("run --scenario http-small --url www.lab.test --assert errors<1", "no unit for errors; its unit is %")]
    [InlineData("run --scenario http-small --url www.lab.test --assert p99~1ms", "is not a threshold")]
    [InlineData("run --scenario http-small --url ftp://www.lab.test", "the scheme 'ftp' is not supported")]
    [InlineData("run --scenario http-small --url https://127.0.0.1:8443", "http-small speaks http")]
    [InlineData("run --scenario http-small --url www.lab.test --proxy socks5://127.0.0.1:1080", "only plain HTTP proxies")]
    [InlineData("run --scenario https-small --url www.lab.test --ca-file /nonexistent/ca.pem", "--ca-file '/nonexistent/ca.pem': no such file")]
    [InlineData("run --scenario http-small --url www.lab.test --json /nonexistent/dir/out.json", "the directory does not exist")]
    [InlineData("run --scenario http-small --url www.lab.test --no-such-option", "--no-such-option")]
    [InlineData("run --scenario http-small --url www.lab.test --upload-size 1MiB", "--upload-size sets the body of the upload scenario")]
    [InlineData("run --scenario upload --url www.lab.test --upload-size 0", "--upload-size '0' is not a size from 1 byte to 1 GiB")]
    [InlineData("run --scenario upload --url www.lab.test --upload-size 2048MiB", "--upload-size '2048MiB' is not a size from 1 byte to 1 GiB")]
    [InlineData("run --scenario upload --url www.lab.test --upload-size 1.5MiB", "give bytes, KiB or MiB, such as --upload-size 100MiB")]
    public async Task Run_BadArguments_ExitTwoAndSayWhatToFix(string commandLine, string expected)
    {
        var (exit, output, error) = await RunAsync(commandLine.Split(' '));

        Assert.Equal(2, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public async Task Run_SeveralBadArguments_ReportsEveryOne()
    {
        var (exit, _, error) = await RunAsync(["run", "--scenario", "http-small", "--url", "www.lab.test", "--duration", "x", "--rate", "0", "--assert", "p1<1ms"]);

        Assert.Equal(2, exit);
        Assert.Contains("--duration 'x'", error, StringComparison.Ordinal);
        Assert.Contains("--rate '0'", error, StringComparison.Ordinal);
        Assert.Contains("unknown metric 'p1'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissedThreshold_ExitOneNamingItWithTheActualValue()
    {
        var (exit, output, error) = await RunAsync(
        [
            "run", "--scenario", "http-small", "--url", $"http://127.0.0.1:{lab.Origin.HttpPort}", "--concurrency", "1",
            "--duration", "300ms", "--warmup", "0s", "--assert", "rate>1000000", "--assert", "errors<1%",
        ]);

        Assert.Equal(1, exit);
        Assert.Contains("threshold failed: rate>1000000 (actual ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("errors<1%", error, StringComparison.Ordinal);
        Assert.Contains("FAIL  rate>1000000", output, StringComparison.Ordinal);
        Assert.Contains("pass  errors<1%", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_OpenModelWithJson_WritesParseableResultsAndExitsZero()
    {
        var path = Path.Combine(Path.GetTempPath(), $"egress-run-{Guid.NewGuid():N}.json");
        try
        {
            var (exit, output, error) = await RunAsync(
            [
                "run", "--scenario", "https-small", "--url", $"https://127.0.0.1:{lab.Origin.HttpsPort}", "--ca-file", lab.CaFile,
                "--rate", "50", "--duration", "500ms", "--warmup", "200ms", "--assert", "errors<1%", "--assert", "p99<5s", "--json", path,
            ]);

            Assert.True(exit == 0, $"exit {exit}: {error}");
            Assert.Contains("https-small", output, StringComparison.Ordinal);
            Assert.Contains("corrected", output, StringComparison.Ordinal);
            var results = System.Text.Json.JsonSerializer.Deserialize<RunResults>(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken), ResultsJson.Options)!;
            var result = Assert.Single(results.Results);
            Assert.Equal("https-small", result.Scenario);
            Assert.Equal(LoadModel.Open, result.Model);
            Assert.Equal(50, result.OfferedRate);
            Assert.Equal(25, result.Requests + result.DroppedSends);
            Assert.Empty(result.Errors);
            Assert.Equal(result.Requests * 1024, result.BytesDown);
            Assert.Equal(result.Requests, result.CorrectedHistogram.Sum(b => b.Count));
            Assert.Equal($"https://127.0.0.1:{lab.Origin.HttpsPort}", results.Url);
            Assert.Null(results.Proxy);
            Assert.Null(results.Ladder);
            Assert.All(results.Thresholds, t => Assert.True(t.Passed, t.Expression));
            Assert.Equal(["errors<1%", "p99<5s"], results.Thresholds.Select(t => t.Expression));
            Assert.Contains("run --scenario https-small", results.Environment.Command, StringComparison.Ordinal);
            Assert.Equal(Environment.ProcessorCount, results.Environment.ProcessorCount);
            Assert.False(string.IsNullOrEmpty(results.Environment.Kernel));
            Assert.Contains(".NET", results.Environment.DotNet, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Run_UploadSize_SendsBodiesOfThatSize()
    {
        var path = Path.Combine(Path.GetTempPath(), $"egress-run-{Guid.NewGuid():N}.json");
        try
        {
            var upBefore = lab.Origin.BytesUp;
            var (exit, _, error) = await RunAsync(
            [
                "run", "--scenario", "upload", "--url", $"http://127.0.0.1:{lab.Origin.HttpPort}", "--upload-size", "96KiB",
                "--concurrency", "1", "--duration", "300ms", "--warmup", "0s", "--json", path,
            ]);

            Assert.True(exit == 0, $"exit {exit}: {error}");
            var result = Assert.Single(System.Text.Json.JsonSerializer.Deserialize<RunResults>(
                await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken), ResultsJson.Options)!.Results);
            Assert.Empty(result.Errors);
            Assert.True(result.Requests > 0);
            Assert.Equal(result.Requests * 96 * 1024, result.BytesUp);
            // The origin read every byte the load counted (and those of the requests of no window: none here).
            Assert.Equal(result.BytesUp, lab.Origin.BytesUp - upBefore);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Run_ProxyFromEnvironment_GoesThroughIt()
    {
        // www.lab.test resolves only inside the proxy: an answer proves the request went through http_proxy.
        var (exit, output, error) = await RunAsync(
            ["run", "--scenario", "http-small", "--url", $"{LabOrigin.Name}:{lab.Origin.HttpPort}", "--concurrency", "1", "--duration", "300ms", "--warmup", "0s", "--assert", "errors<1%"],
            name => name == "http_proxy" ? lab.ProxyUri.ToString() : null);

        Assert.True(exit == 0, $"exit {exit}: {error}\n{output}");
        Assert.Contains($"proxy {lab.ProxyUri.GetLeftPart(UriPartial.Authority)}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Ladder_StepsAndKneeReported()
    {
        var path = Path.Combine(Path.GetTempPath(), $"egress-ladder-{Guid.NewGuid():N}.json");
        try
        {
            var (exit, output, error) = await RunAsync(
            [
                "run", "--scenario", "http-small", "--url", $"http://127.0.0.1:{lab.Origin.HttpPort}", "--ladder", "20,40",
                "--duration", "500ms", "--warmup", "100ms", "--json", path,
            ]);

            Assert.True(exit == 0, $"exit {exit}: {error}");
            Assert.Contains("knee: ", output, StringComparison.Ordinal);
            var results = System.Text.Json.JsonSerializer.Deserialize<RunResults>(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken), ResultsJson.Options)!;
            var ladder = results.Ladder!;
            Assert.InRange(ladder.Count, 1, 2);
            Assert.Equal(ladder.Count, results.Results.Count);
            Assert.Equal(20, ladder[0].OfferedRate);
            Assert.All(results.Results, r => Assert.Equal(LoadModel.Open, r.Model));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Help_Run_DocumentsUrlSchemesAndExitCodes()
    {
        var (exit, output, _) = await RunAsync(["run", "--help"]);

        Assert.Equal(0, exit);
        Assert.Contains("Each scenario uses its own scheme", output, StringComparison.Ordinal);
        Assert.Contains("Exit status: 0", output, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(string[] args, Func<string, string?>? environment = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await Program.RunAsync(args, output, error, environment ?? (_ => null), TestContext.Current.CancellationToken)
            .WaitAsync(Limit, TestContext.Current.CancellationToken);
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("4096B", 4096)]
    [InlineData("512KiB", 512 * 1024)]
    [InlineData("100MiB", 100 * 1024 * 1024)]
    [InlineData("1024mib", 1024 * 1024 * 1024)]
    public void UploadSize_BytesKiBOrMiB_AreThatManyBytes(string text, int bytes)
    {
        var errors = new List<string>();

        Assert.Equal(bytes, RunSettings.UploadSize(text, errors));
        Assert.Empty(errors);
    }
}
