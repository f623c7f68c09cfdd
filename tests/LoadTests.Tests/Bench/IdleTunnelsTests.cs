using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using EgressLab.LoadTests.Bench;
using EgressLab.LoadTests.Measurement;
using EgressLab.LoadTests.Tests.TestHost;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.LoadTests.Tests.Bench;

/// <summary>
/// The idle-tunnels figure through the real proxy, in this process (so the "proxy process" whose memory and open files
/// are read is the test's own), to a loopback server that answers every request. Counts and structure only: the
/// memory bounds belong to the bench.
/// </summary>
public sealed class IdleTunnelsTests
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task RunAsync_AllowedTarget_OpensHoldsVerifiesAndClosesEveryTunnel()
    {
        await using var target = new AnsweringServer();
        await using var proxy = await StartProxyAsync(target.Port);
        var progress = new StringWriter(CultureInfo.InvariantCulture);
        var options = Options(proxy, target.Port, count: 200) with { Hold = TimeSpan.FromSeconds(2), SampleInterval = TimeSpan.FromSeconds(0.5) };

        var result = await IdleTunnels.RunAsync(options, progress, TestContext.Current.CancellationToken).WaitAsync(RunLimit, TestContext.Current.CancellationToken);
        TestContext.Current.TestOutputHelper?.WriteLine(progress.ToString());

        Assert.True(result.OpenFailures.Count == 0, result.OpenFailureNote);
        Assert.True(result.VerifyFailures.Count == 0, result.VerifyFailureNote);
        Assert.Null(result.LimitNote);
        Assert.Equal((200, 200, 200, 200), (result.Requested, result.Attempted, result.Opened, result.Verified));
        Assert.Equal(200, target.Answered);
        Assert.True(result.BaselineRssBytes > 0);

        // Samples at 0, 0.5, 1, 1.5 and 2 s from the start of the hold, in order.
        Assert.Equal(5, result.HoldSamples.Count);
        Assert.All(result.HoldSamples, sample => Assert.True(sample.RssBytes > 0));
        Assert.True(result.HoldSamples[0].Seconds < 0.5, $"the first sample is at {result.HoldSamples[0].Seconds} s");
        Assert.True(result.HoldSamples[^1].Seconds >= 2, $"the last sample is at {result.HoldSamples[^1].Seconds} s");
        Assert.Equal(result.HoldSamples.OrderBy(s => s.Seconds), result.HoldSamples);
        var figures = IdleTunnels.Figures(result.BaselineRssBytes, result.HoldSamples, result.Opened);
        Assert.Equal((figures.PeakAboveBaselineBytes, figures.BytesPerTunnel, figures.HoldGrowthBytesPerTunnel, figures.HoldSlopeBytesPerSecond),
            (result.PeakAboveBaselineBytes, result.BytesPerTunnel, result.HoldGrowthBytesPerTunnel, result.HoldSlopeBytesPerSecond));

        // Closing our ends closes the proxy's, all the way to the target.
        Assert.Equal(200, await target.WaitForClosedAsync(200));
        Assert.Contains("closed 200 tunnels", progress.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_DeniedPort_ReportsRefusalsWithTheProxysReason()
    {
        await using var target = new AnsweringServer();
        await using var proxy = await StartProxyAsync(target.Port);
        // Port 9 is in no rule, and the policy denies by default.
        var options = Options(proxy, target.Port, count: 20) with { TargetAuthority = "127.0.0.1:9" };

        var result = await IdleTunnels.RunAsync(options, TextWriter.Null, TestContext.Current.CancellationToken).WaitAsync(RunLimit, TestContext.Current.CancellationToken);

        Assert.Equal((20, 0, 0), (result.Attempted, result.Opened, result.Verified));
        var failure = Assert.Single(result.OpenFailures);
        Assert.Equal((RequestError.ConnectRefused, 403, 20, "connect-refused-403"), (failure.Error, failure.Status, failure.Count, failure.Kind));
        Assert.StartsWith("the proxy answered CONNECT 127.0.0.1:9 with 403: ERR_", failure.FirstMessage, StringComparison.Ordinal);
        Assert.StartsWith("20 of 20 tunnels failed to open: 20 connect-refused-403 (first: ", result.OpenFailureNote, StringComparison.Ordinal);
        Assert.Empty(result.HoldSamples);
        Assert.Equal(0, result.BytesPerTunnel);
        Assert.Equal(0, target.Accepted);
    }

    [Fact]
    public async Task RunAsync_NothingListening_ReportsConnectFailuresWithoutThrowing()
    {
        var port = UnusedPort();
        var options = new IdleTunnelsOptions(new IPEndPoint(IPAddress.Loopback, port), Environment.ProcessId, "127.0.0.1:80", 10,
            TimeSpan.Zero, TimeSpan.FromSeconds(1), 4) { BaselineInterval = TimeSpan.FromMilliseconds(10) };

        var result = await IdleTunnels.RunAsync(options, TextWriter.Null, TestContext.Current.CancellationToken).WaitAsync(RunLimit, TestContext.Current.CancellationToken);

        Assert.Equal(0, result.Opened);
        var failure = Assert.Single(result.OpenFailures);
        Assert.Equal((RequestError.Connect, 10), (failure.Error, failure.Count));
        Assert.StartsWith("TCP connection to the proxy: ", failure.FirstMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ProxyClosesSilentTunnels_VerificationSaysSo()
    {
        await using var target = new AnsweringServer();
        // With the SNI check on, the proxy waits 1 s for a TLS ClientHello, then closes a silent tunnel.
        await using var proxy = await StartProxyAsync(target.Port, proxy =>
        {
            proxy["Policy"]!["RequireSniMatch"] = "Require";
            proxy["Timeouts"]!["ClientHello"] = "00:00:01";
        });
        var options = Options(proxy, target.Port, count: 10) with { Hold = TimeSpan.FromSeconds(2) };

        var result = await IdleTunnels.RunAsync(options, TextWriter.Null, TestContext.Current.CancellationToken).WaitAsync(RunLimit, TestContext.Current.CancellationToken);

        Assert.Equal((10, 0), (result.Opened, result.Verified));
        var failure = Assert.Single(result.VerifyFailures);
        Assert.Equal((RequestError.Reset, 10), (failure.Error, failure.Count));
        Assert.StartsWith("answer through the tunnel: ", failure.FirstMessage, StringComparison.Ordinal);
        Assert.StartsWith("10 of 10 tunnels did not answer after the hold: 10 reset (first: ", result.VerifyFailureNote, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_DescriptorsForFewerThanRequested_OpensWhatFitsAndSaysWhy()
    {
        await using var target = new AnsweringServer();
        await using var proxy = await StartProxyAsync(target.Port);
        // A reserve that leaves room for about 50 tunnels at 3 descriptors each (the proxy is in this process): the
        // limit's arithmetic without exhausting anything. Other tests' sockets come and go, so the count is not exact.
        var own = new OpenFileUsage(ProcessResources.OpenFileLimit(Environment.ProcessId), ProcessResources.OpenFiles(Environment.ProcessId));
        var reserve = (int)Math.Min(int.MaxValue, own.Limit - own.Open - (3 * 50));
        var options = Options(proxy, target.Port, count: 200) with { DescriptorReserve = reserve };

        var result = await IdleTunnels.RunAsync(options, TextWriter.Null, TestContext.Current.CancellationToken).WaitAsync(RunLimit, TestContext.Current.CancellationToken);

        Assert.True(result.Attempted < 200, $"{result.Attempted} tried");
        Assert.Equal(result.Attempted, result.Opened);
        Assert.Equal(result.Opened, result.Verified);
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture, $"{result.Attempted:N0} of 200: the proxy runs in this process, whose open-file limit is "),
            result.LimitNote, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_CancelledDuringTheHold_ClosesEveryTunnel()
    {
        await using var target = new AnsweringServer();
        await using var proxy = await StartProxyAsync(target.Port);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var progress = new CancellingWriter("hold ", cancel);
        var options = Options(proxy, target.Port, count: 50) with { Hold = TimeSpan.FromSeconds(60) };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => IdleTunnels.RunAsync(options, progress, cancel.Token).WaitAsync(RunLimit, TestContext.Current.CancellationToken));

        Assert.Equal(50, await target.WaitForClosedAsync(50));
        Assert.Contains("closed 50 tunnels", progress.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_InvalidOptions_NamesEveryProblem()
    {
        var options = new IdleTunnelsOptions(new IPEndPoint(IPAddress.Loopback, 1), 0, "no-port", 0, TimeSpan.FromSeconds(-1), TimeSpan.Zero, 0);

        var exception = await Assert.ThrowsAsync<ArgumentException>(() => IdleTunnels.RunAsync(options, TextWriter.Null, TestContext.Current.CancellationToken));

        foreach (var name in (string[])["ProxyPid", "TargetAuthority", "Count", "Concurrency", "Hold", "SampleInterval"])
        {
            Assert.Contains(name + ":", exception.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("127.0.0.1:80", true)]
    [InlineData("www.lab.test:8080", true)]
    [InlineData("[::1]:443", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData(":80", false)]
    [InlineData("host:0", false)]
    [InlineData("host:65536", false)]
    [InlineData("host:80\r\nX-Evil: 1", false)]
    [InlineData("host name:80", false)]
    public void Validate_TargetAuthority_HostAndPortOnly(string authority, bool valid)
    {
        var options = new IdleTunnelsOptions(new IPEndPoint(IPAddress.Loopback, 1), 1, authority, 1, TimeSpan.Zero, TimeSpan.FromSeconds(1), 1);

        Assert.Equal(valid, !options.Validate().Any(e => e.StartsWith("TargetAuthority:", StringComparison.Ordinal)));
    }

    [Fact]
    public void Figures_Samples_PeakGrowthAndSlopePerTunnel()
    {
        RssSample[] samples = [new(0, 1_100), new(1, 1_300), new(2, 1_200)];

        var figures = IdleTunnels.Figures(100, samples, 10);

        // Peak 1,300 is 1,200 above the baseline; last less first is 100; the best line rises 50 per second.
        Assert.Equal(new IdleTunnelsFigures(1_200, 120, 10, 50), figures);
    }

    [Fact]
    public void Figures_NoSamplesOrTunnels_Zero()
    {
        Assert.Equal(default, IdleTunnels.Figures(100, [], 10));
        Assert.Equal(default, IdleTunnels.Figures(100, [new RssSample(0, 500)], 0));
        Assert.Equal(new IdleTunnelsFigures(400, 40, 0, 0), IdleTunnels.Figures(100, [new RssSample(0, 500)], 10));
    }

    private static IdleTunnelsOptions Options(ProxyServer proxy, int targetPort, int count) =>
        new(proxy.ProxyEndPoint, Environment.ProcessId, $"127.0.0.1:{targetPort}", count, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(0.5), 32)
        {
            BaselineInterval = TimeSpan.FromMilliseconds(100),
            OpenTimeout = TimeSpan.FromSeconds(10),
            VerifyTimeout = TimeSpan.FromSeconds(10),
        };

    /// <summary>
    /// The proxy in this process, allowing the target's port, with the SNI check off: the tunnels carry plain HTTP
    /// and stay silent, as the bench's do. Errors only in its log: a line per tunnel would bury the output, and the
    /// results carry the reasons.
    /// </summary>
    private static Task<ProxyServer> StartProxyAsync(int targetPort, Action<JsonObject>? customize = null)
    {
        var policy = ProxyServer.AllowAll(targetPort);
        policy["RequireSniMatch"] = "Off";
        var config = ProxyServer.Config(policy, customize: customize);
        config["Serilog"] = new JsonObject
        {
            ["MinimumLevel"] = new JsonObject { ["Default"] = "Error", ["Override"] = new JsonObject { ["Microsoft.Hosting.Lifetime"] = "Warning" } },
            ["WriteTo"] = new JsonArray(new JsonObject { ["Name"] = "Console", ["Args"] = new JsonObject { ["standardErrorFromLevel"] = "Verbose" } }),
        };
        return ProxyServer.StartAsync(config, new TestNetwork());
    }

    private static int UnusedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Progress that cancels the run when a line starting with <c>idle-tunnels: </c> and then its prefix is written.</summary>
    private sealed class CancellingWriter(string prefix, CancellationTokenSource cancel) : StringWriter(CultureInfo.InvariantCulture)
    {
        public override Task WriteLineAsync(string? value)
        {
            if (value is not null && value.StartsWith("idle-tunnels: " + prefix, StringComparison.Ordinal))
            {
                cancel.Cancel();
            }

            return base.WriteLineAsync(value);
        }
    }
}
