using System.Net;
using System.Text.RegularExpressions;
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
        var policy = ProxyServer.AllowAll(origin.Port, origin.TlsPort);
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy), new TestNetwork());
        using (var client = proxy.CreateClient())
        {
            (await client.GetAsync($"http://www.example.com:{origin.Port}/bytes/1000", Token)).Dispose();
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
        while (Value(text, "proxy_active_tunnels") != 0 && DateTime.UtcNow < deadline);

        Assert.Equal(1, Value(text, "proxy_requests_total{decision=\"allow\",kind=\"http\",rule=\"allow-all\"}"));
        Assert.Equal(1, Value(text, "proxy_requests_total{decision=\"allow\",kind=\"tunnel\",rule=\"allow-all\"}"));
        Assert.Equal(1, Value(text, "proxy_requests_total{decision=\"deny\",kind=\"http\",rule=\"default\"}"));
        Assert.Equal(0, Value(text, "proxy_active_tunnels"));
        Assert.True(Value(text, "proxy_bytes_down_total") > 3000);
        Assert.True(Value(text, "proxy_bytes_up_total") > 0);
        Assert.True(Value(text, "proxy_upstream_connect_duration_seconds_count") >= 2);
        Assert.Contains("# TYPE proxy_dns_duration_seconds histogram", text, StringComparison.Ordinal);
    }

    private static double Value(string exposition, string series)
    {
        // Label order in the exposition is the exporter's; compare label sets, not strings.
        var wanted = Normalize(series);
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            if (Normalize(line[..space]) == wanted)
            {
                return double.Parse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return double.NaN;
    }

    private static string Normalize(string series)
    {
        var brace = series.IndexOf('{', StringComparison.Ordinal);
        if (brace < 0)
        {
            return series;
        }

        var labels = Regex.Matches(series[(brace + 1)..^1], "([a-zA-Z_]+)=\"((?:[^\"\\\\]|\\\\.)*)\"").Select(m => m.Value).Order(StringComparer.Ordinal);
        return series[..brace] + "{" + string.Join(",", labels) + "}";
    }
}
