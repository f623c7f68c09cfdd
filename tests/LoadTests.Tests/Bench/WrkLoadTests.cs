using EgressLab.LoadTests.Bench;

namespace EgressLab.LoadTests.Tests.Bench;

public sealed class WrkLoadTests
{
    [Fact]
    public void Parse_ResultLineAmongWrksOwnOutput_ReadsEveryField()
    {
        const string output = """
            Running 10s test @ http://127.0.0.1:3128/
              2 threads and 32 connections
            bench-result 120000 150000000 10000000 1 2 3 4 5 1500 4200 35000
            """;

        var result = WrkLoad.Parse(output);

        Assert.NotNull(result);
        Assert.Equal(120_000, result.Requests);
        Assert.Equal(150_000_000, result.Bytes);
        Assert.Equal(10.0, result.Seconds);
        Assert.Equal((1, 2, 3, 4, 5), (result.ConnectErrors, result.ReadErrors, result.WriteErrors, result.StatusErrors, result.Timeouts));
        Assert.Equal(15, result.Errors);
        Assert.Equal(12_000, result.RequestsPerSecond);
        Assert.Equal(15, result.MegabytesPerSecond);
        Assert.Equal((1.5, 4.2, 35.0), (result.P50Milliseconds, result.P99Milliseconds, result.MaxMilliseconds));
        Assert.Equal("connect 1, read 2, write 3, non-2xx/3xx 4, timeout 5", result.DescribeErrors());
    }

    [Theory]
    [InlineData("")]
    [InlineData("Requests/sec: 12000.00")]
    [InlineData("bench-result 1 2 3")]
    [InlineData("bench-result 1 2 3 4 5 6 7 8 9 10 x")]
    [InlineData("bench-result 1 2 3 4 5 6 7 8 9 10 -1")]
    public void Parse_NoCompleteResultLine_ReturnsNull(string output) => Assert.Null(WrkLoad.Parse(output));

    [Fact]
    public void WriteScript_ThroughAProxy_SendsTheAbsoluteUriWithTheOriginsHost()
    {
        var directory = Directory.CreateTempSubdirectory("egress-wrk-test-").FullName;
        try
        {
            var script = File.ReadAllText(WrkLoad.WriteScript(directory, "t", "http://origin.bench.example:8080/1k", "origin.bench.example:8080"));

            Assert.Contains("wrk.path = \"http://origin.bench.example:8080/1k\"", script, StringComparison.Ordinal);
            Assert.Contains("wrk.headers[\"Host\"] = \"origin.bench.example:8080\"", script, StringComparison.Ordinal);
            Assert.Contains("done = function(summary, latency, requests)", script, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
