using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Limits;
using EgressLab.ProxyInstance.Tests.TestHost;
using EgressLab.ProxyInstance.Tests.Tunnel;
using Microsoft.Extensions.DependencyInjection;

namespace EgressLab.ProxyInstance.Tests.Robustness;

/// <summary>
/// Past a limit, new work is refused with 503 or 429 and a reason, while tunnels already open keep flowing.
/// A second client is another loopback source address (127.0.0.2).
/// </summary>
public sealed class LimitsTests : RobustnessTest
{
    private static readonly IPAddress OtherClient = IPAddress.Parse("127.0.0.2");

    private static Task<RawOrigin> EchoAsync() => RawOrigin.StartAsync(async (stream, token) =>
    {
        var buffer = new byte[256];
        int read;
        while ((read = await stream.ReadAsync(buffer, token)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), token);
        }
    });

    private static JsonObject Config(OriginServer origin, RawOrigin echo, Action<JsonObject> limits)
    {
        var policy = ProxyServer.AllowAll(origin.Port, echo.Port);
        policy["RequireSniMatch"] = "Off";
        return ProxyServer.Config(policy, customize: proxy =>
        {
            var section = new JsonObject();
            limits(section);
            proxy["Limits"] = section;
        });
    }

    private static async Task<RawClient> OpenTunnelAsync(ProxyServer proxy, RawOrigin echo, IPAddress? from = null)
    {
        var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint, from);
        await raw.SendAsync($"CONNECT www.example.com:{echo.Port} HTTP/1.1\r\nHost: www.example.com:{echo.Port}\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        RobustnessLedger.Requests();
        await AssertFlowsAsync(raw);
        return raw;
    }

    private static async Task AssertFlowsAsync(RawClient tunnel)
    {
        var payload = $"ping {Guid.NewGuid():N}";
        await tunnel.SendAsync(payload);
        Assert.Equal(payload, Encoding.ASCII.GetString(await tunnel.ReadExactlyAsync(payload.Length)));
    }

    private static async Task<string> ExchangeAsync(ProxyServer proxy, string request, IPAddress? from = null)
    {
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint, from);
        await raw.SendAsync(request);
        RobustnessLedger.Requests();
        var head = await raw.ReadHeadAsync();
        // An established tunnel has no body to read.
        return head.StartsWith("HTTP/1.1 200 Connection established", StringComparison.Ordinal) ? head : head + await raw.ReadBodyAsync(head);
    }

    private static string Get(OriginServer origin) =>
        $"GET http://www.example.com:{origin.Port}/ HTTP/1.1\r\nHost: www.example.com:{origin.Port}\r\nConnection: close\r\n\r\n";

    private static string Connect(RawOrigin echo) =>
        $"CONNECT www.example.com:{echo.Port} HTTP/1.1\r\nHost: www.example.com:{echo.Port}\r\n\r\n";

    private static async Task<string> EventuallyAsync(Func<Task<string>> attempt, string expectedStart, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var response = await attempt();
            if (response.StartsWith(expectedStart, StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                Assert.True(response.StartsWith(expectedStart, StringComparison.Ordinal), $"{what}: got {response}");
                return response;
            }

            await Task.Delay(50, Token);
        }
    }

    [Fact]
    public async Task MaxConnections_PastTheLimit_NewConnectionsGet503WhileOpenTunnelsFlow()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var echo = await EchoAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin, echo, l => l["MaxConnections"] = 2), new TestNetwork());
        await using var first = await OpenTunnelAsync(proxy, echo);
        var second = await OpenTunnelAsync(proxy, echo);

        var plain = await ExchangeAsync(proxy, Get(origin));
        var tunnel = await ExchangeAsync(proxy, Connect(echo));

        foreach (var refused in new[] { plain, tunnel })
        {
            Assert.StartsWith("HTTP/1.1 503 Service Unavailable\r\n", refused, StringComparison.Ordinal);
            Assert.Contains("X-Proxy-Error: ERR_TOO_MANY_CONNECTIONS\r\n", refused, StringComparison.Ordinal);
            Assert.Contains("Retry-After: 1\r\n", refused, StringComparison.Ordinal);
            Assert.Contains("Limits:MaxConnections", refused, StringComparison.Ordinal);
        }

        Assert.Equal(0, origin.Connections);
        await AssertFlowsAsync(first);
        await AssertFlowsAsync(second);
        await EventuallyAsync(async () =>
        {
            using var admin = new HttpClient();
            var metrics = Metrics.PrometheusText.Parse(await admin.GetStringAsync($"http://{proxy.AdminEndPoint}/metrics", Token));
            return $"[{metrics.Value("proxy_client_connections").ToString(System.Globalization.CultureInfo.InvariantCulture)}]";
        }, "[2]", "the two tunnels' connections, and no more, counted");

        await second.DisposeAsync();
        var admitted = await EventuallyAsync(() => ExchangeAsync(proxy, Get(origin)), "HTTP/1.1 200 OK", "a connection once one closed");
        Assert.EndsWith("GET / from origin", admitted, StringComparison.Ordinal);
        await AssertFlowsAsync(first);
        var log = await proxy.AccessLogLinesAsync(4);
        Assert.Contains(log, l => l.Contains("TCP_DENIED/503", StringComparison.Ordinal) && l.Contains("ERR_TOO_MANY_CONNECTIONS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MaxTunnelsPerClient_PastTheLimit_Gets429ForThatClientOnly()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var echo = await EchoAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin, echo, l => l["MaxTunnelsPerClient"] = 2), new TestNetwork());
        await using var first = await OpenTunnelAsync(proxy, echo);
        var second = await OpenTunnelAsync(proxy, echo);

        var refused = await ExchangeAsync(proxy, Connect(echo));

        Assert.StartsWith("HTTP/1.1 429 Too Many Requests\r\n", refused, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_TOO_MANY_TUNNELS\r\n", refused, StringComparison.Ordinal);
        Assert.Contains("this client has 2 tunnels open", refused, StringComparison.Ordinal);
        // The limit is on tunnels: the same client's plain requests and another client's tunnels go on.
        Assert.StartsWith("HTTP/1.1 200 OK", await ExchangeAsync(proxy, Get(origin)), StringComparison.Ordinal);
        await using var other = await OpenTunnelAsync(proxy, echo, OtherClient);
        await AssertFlowsAsync(first);
        await AssertFlowsAsync(second);

        await second.DisposeAsync();
        await EventuallyAsync(async () =>
        {
            await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
            await raw.SendAsync(Connect(echo));
            RobustnessLedger.Requests();
            return await raw.ReadHeadAsync();
        }, "HTTP/1.1 200 Connection established", "a tunnel once one closed");
    }

    [Fact]
    public async Task RequestsPerSecondPerClient_PastTheBurst_Gets429WithRetryAfterWhileATunnelFlows()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var echo = await EchoAsync();
        var clock = new ManualClock();
        var network = new TestNetwork();
        var config = Config(origin, echo, l =>
        {
            l["RequestsPerSecondPerClient"] = 0.5;
            l["RequestBurstPerClient"] = 3;
        });
        // Only the limiter's clock is manual, so the refill is exact however slow the machine is.
        await using var proxy = await ProxyServer.StartAsync(config, services =>
        {
            network.Register(services);
            services.AddSingleton(new ClientLimits(clock));
        });
        await using var tunnel = await OpenTunnelAsync(proxy, echo);
        Assert.StartsWith("HTTP/1.1 200 OK", await ExchangeAsync(proxy, Get(origin)), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200 OK", await ExchangeAsync(proxy, Get(origin)), StringComparison.Ordinal);

        var plain = await ExchangeAsync(proxy, Get(origin));
        var connect = await ExchangeAsync(proxy, Connect(echo));

        foreach (var refused in new[] { plain, connect })
        {
            Assert.StartsWith("HTTP/1.1 429 Too Many Requests\r\n", refused, StringComparison.Ordinal);
            Assert.Contains("X-Proxy-Error: ERR_RATE_LIMITED\r\n", refused, StringComparison.Ordinal);
            Assert.Contains("Retry-After: 2\r\n", refused, StringComparison.Ordinal);
            Assert.Contains("0.5 per second, 3 at once", refused, StringComparison.Ordinal);
        }

        Assert.Equal(2, origin.RequestTargets.Count);
        await AssertFlowsAsync(tunnel);
        Assert.StartsWith("HTTP/1.1 200 OK", await ExchangeAsync(proxy, Get(origin), OtherClient), StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.StartsWith("HTTP/1.1 200 OK", await ExchangeAsync(proxy, Get(origin)), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 429 ", await ExchangeAsync(proxy, Get(origin)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxTunnelsPerClient_SetByReload_AppliesToNewTunnelsOnly()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var echo = await EchoAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin, echo, _ => { }), new TestNetwork());
        await using var first = await OpenTunnelAsync(proxy, echo);
        await using var second = await OpenTunnelAsync(proxy, echo);

        await proxy.RewriteConfigAsync(Config(origin, echo, l => l["MaxTunnelsPerClient"] = 1));
        RobustnessLedger.Faults();

        await EventuallyAsync(() => ExchangeAsync(proxy, Connect(echo)), "HTTP/1.1 429 ", "the reloaded tunnel limit");
        await AssertFlowsAsync(first);
        await AssertFlowsAsync(second);
    }
}
