using System.Net;
using System.Net.Sockets;
using EgressLab.LoadTests.Load;
using EgressLab.LoadTests.Measurement;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Scenarios;
using EgressLab.LoadTests.Tests.TestHost;

namespace EgressLab.LoadTests.Tests.Scenarios;

/// <summary>Each way a request can fail, provoked for real on loopback, lands in its error class.</summary>
public class ErrorClassificationTests(LabFixture lab) : IClassFixture<LabFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("http-small")]
    [InlineData("https-small")]
    [InlineData("new-connection")]
    [InlineData("bulk")]
    [InlineData("upload")]
    public async Task ExecuteAsync_RefusedPort_Connect(string scenario)
    {
        var port = ClosedPort();
        var outcome = await OnceAsync(scenario, $"{SchemeOf(scenario)}://127.0.0.1:{port}", proxy: null);

        Assert.Equal(RequestError.Connect, outcome.Error);
    }

    [Theory]
    [InlineData("http-small")]
    [InlineData("https-small")]
    [InlineData("new-connection")]
    public async Task ExecuteAsync_ProxyPortRefused_Connect(string scenario)
    {
        var proxy = new Uri($"http://127.0.0.1:{ClosedPort()}");
        var outcome = await OnceAsync(scenario, $"{SchemeOf(scenario)}://{LabOrigin.Name}", proxy);

        Assert.Equal(RequestError.Connect, outcome.Error);
    }

    [Theory]
    [InlineData("https-small")]
    [InlineData("new-connection")]
    public async Task ExecuteAsync_UnknownNameThroughProxy_ConnectRefused(string scenario)
    {
        var outcome = await OnceAsync(scenario, "https://nowhere.lab.test", lab.ProxyUri);

        Assert.Equal(RequestError.ConnectRefused, outcome.Error);
        Assert.Equal("connect-refused", RequestErrorNames.Of(outcome.Error, outcome.StatusCode));
    }

    [Fact]
    public async Task ExecuteAsync_UnknownNameThroughProxyOverPlainHttp_ProxyStatus502()
    {
        // Without a tunnel there is no CONNECT to refuse: the proxy answers the request itself.
        var outcome = await OnceAsync("http-small", "http://nowhere.lab.test", lab.ProxyUri);

        Assert.Equal(RequestError.HttpStatus, outcome.Error);
        Assert.Equal("http-502", RequestErrorNames.Of(outcome.Error, outcome.StatusCode));
    }

    [Theory]
    [InlineData("https-small", false)]
    [InlineData("new-connection", false)]
    [InlineData("https-small", true)]
    [InlineData("new-connection", true)]
    public async Task ExecuteAsync_CertificateNameMismatch_Tls(string scenario, bool viaProxy)
    {
        // The certificate names www.lab.test: reached as 127.0.0.1 directly, or as another name through the proxy.
        var outcome = viaProxy
            ? await OnceAsync(scenario, $"https://localhost.lab.test:{lab.Origin.HttpsPort}", lab.ProxyUri, hosts: "localhost.lab.test")
            : await OnceAsync(scenario, $"https://127.0.0.1:{lab.Origin.NameOnlyHttpsPort}", proxy: null);

        Assert.Equal(RequestError.Tls, outcome.Error);
    }

    [Theory]
    [InlineData("https-small")]
    [InlineData("new-connection")]
    public async Task ExecuteAsync_UntrustedAuthority_Tls(string scenario)
    {
        // Without --ca-file the test CA is unknown, and validation is never switched off.
        var outcome = await OnceAsync(scenario, $"https://127.0.0.1:{lab.Origin.HttpsPort}", proxy: null, trusted: false);

        Assert.Equal(RequestError.Tls, outcome.Error);
    }

    [Theory]
    [InlineData("http-small", false)]
    [InlineData("https-small", false)]
    [InlineData("new-connection", false)]
    [InlineData("bulk", false)]
    [InlineData("http-small", true)]
    [InlineData("new-connection", true)]
    public async Task ExecuteAsync_PathNotFound_Http404(string scenario, bool viaProxy)
    {
        var host = viaProxy ? LabOrigin.Name : "127.0.0.1";
        var port = SchemeOf(scenario) == "https" ? lab.Origin.HttpsPort : lab.Origin.HttpPort;
        var outcome = await OnceAsync(scenario, $"{SchemeOf(scenario)}://{host}:{port}/missing", viaProxy ? lab.ProxyUri : null);

        Assert.Equal(RequestError.HttpStatus, outcome.Error);
        Assert.Equal("http-404", RequestErrorNames.Of(outcome.Error, outcome.StatusCode));
    }

    [Theory]
    [InlineData("http-small")]
    [InlineData("new-connection")]
    public async Task ExecuteAsync_NoAnswerWithinTimeout_Timeout(string scenario)
    {
        var port = SchemeOf(scenario) == "https" ? lab.Origin.HttpsPort : lab.Origin.HttpPort;
        var outcome = await OnceAsync(scenario, $"{SchemeOf(scenario)}://127.0.0.1:{port}/hang", proxy: null, timeout: TimeSpan.FromMilliseconds(300));

        Assert.Equal(RequestError.Timeout, outcome.Error);
    }

    [Fact]
    public async Task ExecuteAsync_ConnectionReset_Reset()
    {
        await using var server = new ResettingServer();
        var outcome = await OnceAsync("http-small", $"http://127.0.0.1:{server.Port}", proxy: null);

        Assert.Equal(RequestError.Reset, outcome.Error);
    }

    [Fact]
    public async Task RunAsync_EveryRequestNotFound_CountedUnderHttp404()
    {
        Assert.True(OriginTarget.TryResolve($"http://127.0.0.1:{lab.Origin.HttpPort}/missing", ScenarioKind.HttpSmall, out var target, out _));
        using var operation = ScenarioFactory.Create(ScenarioKind.HttpSmall, target!, null, CertificateTrust.SystemOnly, TimeSpan.FromSeconds(10), 1);
        var runner = LoadRunner.Create(operation, new LoadPlan
        {
            Model = LoadModel.Closed,
            Users = 1,
            WarmUp = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(300),
        });

        await runner.RunAsync(TestContext.Current.CancellationToken).WaitAsync(Limit, TestContext.Current.CancellationToken);
        var result = runner.Recorder.ToResult("http-small");

        Assert.True(result.Requests > 0);
        Assert.Equal(new Dictionary<string, long> { ["http-404"] = result.Requests }, result.Errors);
        Assert.Equal(100, result.ErrorPercent());
        Assert.Equal(result.Requests, result.Timeline.Sum(p => p.Errors));
    }

    private static string SchemeOf(string scenario) => scenario is "https-small" or "new-connection" ? "https" : "http";

    private async Task<OperationOutcome> OnceAsync(string scenario, string url, Uri? proxy, bool trusted = true, TimeSpan? timeout = null, string? hosts = null)
    {
        Assert.True(ScenarioCatalog.TryParse(scenario, out var kind));
        Assert.True(OriginTarget.TryResolve(url, kind, out var target, out var error), error);
        using var trust = trusted ? lab.LoadTrust() : null;
        if (hosts is not null)
        {
            lab.MapName(hosts);
        }

        using var operation = ScenarioFactory.Create(kind, target!, proxy, trust ?? CertificateTrust.SystemOnly, timeout ?? TimeSpan.FromSeconds(10), 1);
        return await operation.ExecuteAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(Limit, TestContext.Current.CancellationToken);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
