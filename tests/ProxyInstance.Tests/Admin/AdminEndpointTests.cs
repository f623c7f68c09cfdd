using System.Net;
using EgressLab.ProxyInstance.Tests.Metrics;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Admin;

public sealed class AdminEndpointTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HealthAndReady_OnAdminPort_Return200()
    {
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(80)), new TestNetwork());
        using var admin = new HttpClient();

        using var health = await admin.GetAsync($"http://{proxy.AdminEndPoint}/healthz", Token);
        using var ready = await admin.GetAsync($"http://{proxy.AdminEndPoint}/readyz", Token);
        using var missing = await admin.GetAsync($"http://{proxy.AdminEndPoint}/nope", Token);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task AdminPaths_OnProxyPort_AreNotServed()
    {
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(80)), new TestNetwork());
        using var direct = new HttpClient();

        using var response = await direct.GetAsync($"http://{proxy.ProxyEndPoint}/metrics", Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_AfterTraffic_CountDecisionsBytesAndLatencies()
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com"]);
        var text = PrometheusText.Parse(await ScrapeAfterTrafficAsync(origin));

        Assert.Equal(1, text.Value("proxy_requests_total", ("decision", "allow"), ("kind", "http"), ("rule", "allow-all")));
        Assert.Equal(1, text.Value("proxy_requests_total", ("decision", "allow"), ("kind", "tunnel"), ("rule", "allow-all")));
        Assert.Equal(1, text.Value("proxy_requests_total", ("decision", "deny"), ("kind", "http"), ("rule", "default")));
        Assert.Equal(1, text.Value("proxy_errors_total", ("code", "ERR_ACCESS_DENIED")));
        Assert.Equal(0, text.Value("proxy_active_tunnels"));
        Assert.True(text.Value("proxy_bytes_down_total") > 3000);
        Assert.True(text.Value("proxy_bytes_up_total") > 0);
        Assert.True(text.Value("proxy_upstream_connect_duration_seconds_count") >= 2);
        Assert.Equal(1, text.Value("proxy_dns_duration_seconds_count"));
        Assert.Equal(0, text.Value("proxy_sni_mismatch_total"));
        Assert.Equal(10_000, text.Value("proxy_client_connections_limit"));
        Assert.Equal("histogram", text.Types["proxy_dns_duration_seconds"]);
        Assert.True(text.Value("dotnet_gc_heap_total_allocated_bytes_total") > 0);
    }

    [Fact]
    public async Task Metrics_AfterTraffic_PassPromtoolCheckMetrics()
    {
        Promtool.Require();
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com"]);
        var exposition = await ScrapeAfterTrafficAsync(origin);

        var check = await Promtool.CheckMetricsAsync(exposition, Token);

        Assert.True(check.ExitCode == 0, $"promtool check metrics: {check}\n{exposition}");
    }

    [Fact]
    public async Task Metrics_Head_AnswersWithoutBodyAndOtherMethodsAreRefused()
    {
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(80)), new TestNetwork());
        using var admin = new HttpClient();

        using var head = await admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"http://{proxy.AdminEndPoint}/metrics"), Token);
        using var post = await admin.PostAsync($"http://{proxy.AdminEndPoint}/metrics", new StringContent(""), Token);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.StartsWith("text/plain", head.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(Token));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public async Task Metrics_ScraperAsksForOpenMetrics_AnswersOpenMetricsWithTheSameSeries()
    {
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(80)), new TestNetwork());
        using var admin = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{proxy.AdminEndPoint}/metrics");
        // What Prometheus sends by default.
        request.Headers.TryAddWithoutValidation("Accept", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1");

        using var response = await admin.SendAsync(request, Token);
        var body = await response.Content.ReadAsStringAsync(Token);
        var text = PrometheusText.Parse(body);

        Assert.Equal("application/openmetrics-text", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("# EOF\n", body, StringComparison.Ordinal);
        Assert.Equal(0, text.Value("proxy_sni_mismatch_total"));
        Assert.Equal(0, text.Value("proxy_config_reloads_total", ("result", "failure"), ("source", "file")));
    }

    /// <summary>
    /// One proxied request of each kind (allowed plain HTTP to a name the resolver answers, an allowed tunnel, a denied
    /// request), then the admin endpoint's <c>/metrics</c> once the tunnel has closed.
    /// </summary>
    internal static async Task<string> ScrapeAfterTrafficAsync(OriginServer origin)
    {
        var policy = ProxyServer.AllowAll(origin.Port, origin.TlsPort);
        var network = new TestNetwork().Map("resolved.example.com", IPAddress.Loopback);
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy), network);
        using (var client = proxy.CreateClient())
        {
            (await client.GetAsync($"http://resolved.example.com:{origin.Port}/bytes/1000", Token)).Dispose();
            (await client.GetAsync($"https://www.example.com:{origin.TlsPort}/bytes/2000", Token)).Dispose();
            (await client.GetAsync($"http://www.example.com:1/", Token)).Dispose();
        }

        using var admin = new HttpClient();
        var text = "";
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            // The tunnel's bytes are counted when it closes, just after the client is disposed.
            await Task.Delay(50, Token);
            text = await admin.GetStringAsync($"http://{proxy.AdminEndPoint}/metrics", Token);
        }
        while (PrometheusText.Parse(text).Value("proxy_active_tunnels") != 0 && DateTime.UtcNow < deadline);

        return text;
    }
}
