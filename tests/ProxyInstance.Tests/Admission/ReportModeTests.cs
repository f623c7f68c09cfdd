using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.Configuration;
using EgressLab.ProxyInstance.Tests.TestHost;
using EgressLab.ProxyInstance.Tests.Tunnel;

namespace EgressLab.ProxyInstance.Tests.Admission;

/// <summary>
/// Report mode end to end: a request the policy would deny goes through on both paths and is logged and counted as
/// would_deny with the rule that would have denied it; the SSRF guard and the SNI check stay enforced.
/// </summary>
public sealed class ReportModeTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static JsonObject ReportEverything() => new() { ["Mode"] = "Report", ["DefaultAction"] = "Deny" };

    private static async Task<string> MetricsAsync(ProxyServer proxy)
    {
        using var admin = new HttpClient();
        return await admin.GetStringAsync($"http://{proxy.AdminEndPoint}/metrics", Token);
    }

    [Fact]
    public async Task Connect_ReportMode_DefaultDenialGoesThroughAndIsLoggedAndCountedAsWouldDeny()
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com"]);
        var config = ProxyServer.Config(ReportEverything(), customize: p => p["AccessLog"] = new JsonObject { ["Format"] = "json" });
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());
        using var client = proxy.CreateClient();

        using (var response = await client.GetAsync($"https://www.example.com:{origin.TlsPort}/secure", Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("GET /secure from origin", await response.Content.ReadAsStringAsync(Token));
        }

        client.Dispose();
        using var line = JsonDocument.Parse(Assert.Single(await proxy.AccessLogLinesAsync(1)));
        var entry = line.RootElement;
        Assert.Equal("TCP_TUNNEL/200", entry.GetProperty("result").GetString());
        Assert.Equal("would_deny", entry.GetProperty("decision").GetString());
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("rule").ValueKind);
        Assert.Equal("DefaultDeny", entry.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("error").ValueKind);
        Assert.Equal("127.0.0.1", entry.GetProperty("upstream").GetString());
        var metrics = Metrics.PrometheusText.Parse(await MetricsAsync(proxy));
        Assert.Equal(1, metrics.Value("proxy_requests_total", ("decision", "would_deny"), ("rule", "default"), ("kind", "tunnel")));
        Assert.DoesNotContain(metrics.Named("proxy_requests_total"), s => s.Labels.GetValueOrDefault("decision") == "deny");
    }

    [Fact]
    public async Task PlainHttp_RuleInReportMode_GoesThroughWhileAnEnforcedRuleStillDenies()
    {
        await using var origin = await OriginServer.StartAsync();
        var policy = new JsonObject
        {
            ["DefaultAction"] = "Allow",
            ["Rules"] = new JsonArray(
                new JsonObject { ["Name"] = "trial-block", ["Action"] = "Deny", ["Mode"] = "Report", ["Domains"] = new JsonArray("www.example.com"), ["Ports"] = new JsonArray(origin.Port) },
                new JsonObject { ["Name"] = "hard-block", ["Action"] = "Deny", ["Domains"] = new JsonArray("other.example.com"), ["Ports"] = new JsonArray(origin.Port) }),
        };
        var hosts = new Dictionary<string, string> { ["www.example.com"] = "127.0.0.1", ["other.example.com"] = "127.0.0.1" };
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy, hosts), new TestNetwork());
        using var client = proxy.CreateClient();

        using (var reported = await client.GetAsync($"http://www.example.com:{origin.Port}/bytes/5", Token))
        {
            Assert.Equal(HttpStatusCode.OK, reported.StatusCode);
        }

        using (var enforced = await client.GetAsync($"http://other.example.com:{origin.Port}/", Token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, enforced.StatusCode);
            Assert.Equal("ERR_ACCESS_DENIED", enforced.Headers.GetValues("X-Proxy-Error").Single());
        }

        var lines = await proxy.AccessLogLinesAsync(2);
        var first = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var second = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(12, first.Length);
        Assert.Equal("TCP_MISS/200", first[3]);
        Assert.Equal("WOULD_DENY:trial-block", first[10]);
        Assert.Equal("OK", first[11]);
        Assert.Equal("TCP_DENIED/403", second[3]);
        Assert.Equal("hard-block", second[10]);
        Assert.Equal("ERR_ACCESS_DENIED", second[11]);
        Assert.Single(origin.RequestTargets);
        var metrics = Metrics.PrometheusText.Parse(await MetricsAsync(proxy));
        Assert.Equal(1, metrics.Value("proxy_requests_total", ("decision", "would_deny"), ("rule", "trial-block"), ("kind", "http")));
        Assert.Equal(1, metrics.Value("proxy_requests_total", ("decision", "deny"), ("rule", "hard-block"), ("kind", "http")));
    }

    [Theory]
    [InlineData("GET http://127.0.0.2:{0}/secret HTTP/1.1\r\nHost: 127.0.0.2:{0}\r\nConnection: close\r\n\r\n")]
    [InlineData("CONNECT 127.0.0.2:{0} HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT internal.example.com:{0} HTTP/1.1\r\n\r\n")]
    public async Task ReportMode_PrivateDestination_IsStillRefusedAndNothingIsDialled(string request)
    {
        await using var forbidden = await OriginServer.StartAsync(IPAddress.Parse("127.0.0.2"));
        var network = new TestNetwork().Map("internal.example.com", IPAddress.Parse("127.0.0.2"));
        var policy = ReportEverything();
        policy["Rules"] = new JsonArray(new JsonObject { ["Name"] = "block-internal", ["Action"] = "Deny", ["Domains"] = new JsonArray(".internal.example.com"), ["Ports"] = new JsonArray(forbidden.Port) });
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy), network);

        var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, string.Format(System.Globalization.CultureInfo.InvariantCulture, request, forbidden.Port));

        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", response, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_DESTINATION_PRIVATE", response, StringComparison.Ordinal);
        Assert.Equal(0, forbidden.Connections);
        Assert.Empty(network.Dialled);
        var fields = Assert.Single(await proxy.AccessLogLinesAsync(1)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("WOULD_DENY:", fields[10], StringComparison.Ordinal);
        Assert.Equal("ERR_DESTINATION_PRIVATE", fields[11]);
    }

    [Fact]
    public async Task ReportMode_SniNamesAnotherServer_TunnelIsStillClosed()
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com", "evil.example.net"]);
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ReportEverything()), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync($"CONNECT www.example.com:{origin.TlsPort} HTTP/1.1\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());

        await Assert.ThrowsAnyAsync<Exception>(() => TunnelTests.TlsHandshakeAsync(raw.Stream, "evil.example.net"));
        var fields = Assert.Single(await proxy.AccessLogLinesAsync(1)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("TCP_DENIED/200", fields[3]);
        Assert.Equal("WOULD_DENY:default", fields[10]);
        Assert.Equal("ERR_SNI_MISMATCH", fields[11]);
        Assert.Matches(@"(?m)^proxy_sni_mismatch_total(\{\})? 1$", await MetricsAsync(proxy));
    }

    [Fact]
    public async Task Reload_SwitchesEnforceToReportAndBack()
    {
        await using var origin = await OriginServer.StartAsync();
        var logs = new CapturingLoggerProvider();
        JsonObject Policy(string mode) => new() { ["Mode"] = mode, ["DefaultAction"] = "Deny" };
        await using var proxy = await ReloadTests.StartWithLogsAsync(Policy("Enforce"), logs);
        using var client = proxy.CreateClient();
        var url = $"http://www.example.com:{origin.Port}/";
        Assert.Equal(HttpStatusCode.Forbidden, await ReloadTests.StatusAsync(client, url));

        await proxy.RewriteConfigAsync(ProxyServer.Config(Policy("Report")));
        await ReloadTests.WaitUntilAsync(async () => await ReloadTests.StatusAsync(client, url) == HttpStatusCode.OK, "report mode");
        // The new settings are in force before the reload's log line is written: wait for it too.
        await ReloadTests.WaitUntilAsync(() => Task.FromResult(logs.Messages.Any(m => m.Contains("policy mode Report", StringComparison.Ordinal))), "the Report log line");

        await proxy.RewriteConfigAsync(ProxyServer.Config(Policy("Enforce")));
        await ReloadTests.WaitUntilAsync(async () => await ReloadTests.StatusAsync(client, url) == HttpStatusCode.Forbidden, "enforce mode again");
        // The new settings are in force before the reload's log line is written: wait for it too.
        await ReloadTests.WaitUntilAsync(() => Task.FromResult(logs.Messages.Any(m => m.Contains("policy mode Enforce", StringComparison.Ordinal))), "the Enforce log line");
    }
}
