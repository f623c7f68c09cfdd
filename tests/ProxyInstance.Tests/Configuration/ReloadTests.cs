using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EgressLab.ProxyInstance.Tests.Configuration;

public sealed class ReloadTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static JsonObject OnlyPort(int port, string action) => new()
    {
        ["Rules"] = new JsonArray(new JsonObject { ["Name"] = $"{action.ToLowerInvariant()}-origin", ["Action"] = action, ["Ports"] = new JsonArray(port) }),
    };

    internal static async Task<HttpStatusCode> StatusAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url, Token);
        return response.StatusCode;
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(100, Token);
        }
    }

    internal static Task<ProxyServer> StartWithLogsAsync(JsonObject policy, CapturingLoggerProvider logs) =>
        ProxyServer.StartAsync(ProxyServer.Config(policy), services =>
        {
            new TestNetwork().Register(services);
            services.AddSingleton<ILoggerProvider>(logs);
        });

    [Fact]
    public async Task ConfigFileChanged_NewPolicyTakesEffectWithoutRestart()
    {
        await using var origin = await OriginServer.StartAsync();
        var logs = new CapturingLoggerProvider();
        await using var proxy = await StartWithLogsAsync(OnlyPort(origin.Port, "Allow"), logs);
        using var client = proxy.CreateClient();
        var url = $"http://www.example.com:{origin.Port}/";
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, url));

        await proxy.RewriteConfigAsync(ProxyServer.Config(OnlyPort(origin.Port, "Deny")));

        await WaitUntilAsync(async () => await StatusAsync(client, url) == HttpStatusCode.Forbidden, "the new policy");
        await WaitUntilAsync(() => Task.FromResult(logs.Messages.Any(m => m.Contains("Configuration reloaded", StringComparison.Ordinal))), "the reload to be logged");
    }

    [Fact]
    public async Task Reload_NarrowedPrivateDestinations_AppliesToTheNextRequestOnAWarmPool()
    {
        await using var origin = await OriginServer.StartAsync();
        var logs = new CapturingLoggerProvider();
        await using var proxy = await StartWithLogsAsync(ProxyServer.AllowAll(origin.Port), logs);
        using var client = proxy.CreateClient();
        var url = $"http://www.example.com:{origin.Port}/";
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, url));
        Assert.Equal(1, origin.Connections);

        // The same policy without the exemption for 127.0.0.1, where the origin (and its pooled connection) lives.
        var narrowed = ProxyServer.AllowAll(origin.Port);
        narrowed["AllowedPrivateDestinations"] = new JsonArray();
        await proxy.RewriteConfigAsync(ProxyServer.Config(narrowed));
        await WaitUntilAsync(() => Task.FromResult(logs.Messages.Any(m => m.Contains("Configuration reloaded", StringComparison.Ordinal))), "the reload");

        using var response = await client.GetAsync(url, Token);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("ERR_DESTINATION_PRIVATE", response.Headers.GetValues("X-Proxy-Error").Single());
        Assert.Single(origin.RequestTargets);
    }

    [Fact]
    public async Task Reload_RetiredOriginPool_IsDisposedOnceItsLastRequestEnds()
    {
        await using var origin = await OriginServer.StartAsync();
        var logs = new CapturingLoggerProvider();
        await using var proxy = await StartWithLogsAsync(ProxyServer.AllowAll(origin.Port), logs);
        var pools = proxy.Services.GetRequiredService<EgressLab.ProxyInstance.Forwarding.EgressHttpClient>();
        var lease = pools.Acquire();
        var first = lease.Invoker;

        await proxy.RewriteConfigAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)));
        await WaitUntilAsync(() => Task.FromResult(logs.Messages.Any(m => m.Contains("Configuration reloaded", StringComparison.Ordinal))), "the reload");
        using (var next = pools.Acquire())
        {
            Assert.NotSame(first, next.Invoker);
        }

        // Still in use by the request that holds the lease: not disposed under it.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://www.example.com:{origin.Port}/still");
        using (var response = await first.SendAsync(request, Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        lease.Dispose();
        using var after = new HttpRequestMessage(HttpMethod.Get, $"http://www.example.com:{origin.Port}/after");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => first.SendAsync(after, Token));
    }

    [Fact]
    public async Task InvalidNewFile_IsRejectedWithALoggedErrorAndPreviousPolicyStays()
    {
        await using var origin = await OriginServer.StartAsync();
        var logs = new CapturingLoggerProvider();
        await using var proxy = await StartWithLogsAsync(OnlyPort(origin.Port, "Allow"), logs);
        using var client = proxy.CreateClient();
        var url = $"http://www.example.com:{origin.Port}/";

        var broken = ProxyServer.Config(new JsonObject
        {
            ["DefaultAction"] = "Allow",
            ["Rules"] = new JsonArray(new JsonObject { ["Name"] = "bad", ["Action"] = "Deny", ["Domains"] = new JsonArray("a.*.com") }),
        });
        await proxy.RewriteConfigAsync(broken);
        await WaitUntilAsync(() => Task.FromResult(logs.Messages.Any(m => m.Contains("rejected", StringComparison.Ordinal))), "the rejection to be logged");
        await File.WriteAllTextAsync(proxy.ConfigPath, "{ \"Proxy\": { ", Token);
        await WaitUntilAsync(() => Task.FromResult(logs.Messages.Count(m => m.Contains("rejected", StringComparison.Ordinal)) >= 2), "the second rejection");

        var rejections = logs.Messages.Where(m => m.Contains("rejected", StringComparison.Ordinal)).ToList();
        Assert.Contains(rejections, m => m.Contains("$.Proxy.Policy.Rules[0].Domains[0]", StringComparison.Ordinal) && m.Contains("a.*.com", StringComparison.Ordinal));
        Assert.Contains(rejections, m => m.Contains("not valid JSON", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, url));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(client, "http://www.example.com:81/"));
    }

    [Fact]
    public async Task Reload_WildcardOverAPublicSuffix_IsRefusedAndPreviousPolicyStays()
    {
        await using var origin = await OriginServer.StartAsync();
        var logs = new CapturingLoggerProvider();
        await using var proxy = await StartWithLogsAsync(OnlyPort(origin.Port, "Allow"), logs);
        using var client = proxy.CreateClient();
        var url = $"http://www.example.com:{origin.Port}/";

        await proxy.RewriteConfigAsync(ProxyServer.Config(new JsonObject
        {
            ["Rules"] = new JsonArray(new JsonObject { ["Name"] = "uk", ["Action"] = "Deny", ["Domains"] = new JsonArray(".co.uk") }),
        }));

        await WaitUntilAsync(() => Task.FromResult(logs.Messages.Any(m => m.Contains("rejected", StringComparison.Ordinal))), "the rejection to be logged");
        Assert.Contains(logs.Messages, m => m.Contains("$.Proxy.Policy.Rules[0].Domains[0]: '.co.uk' would allow every name registered under the public suffix 'co.uk'", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, url));
    }

    [Fact]
    public async Task Reload_OpenTunnel_KeepsFlowing()
    {
        await using var origin = await Tunnel.RawOrigin.StartAsync(async (stream, token) =>
        {
            var buffer = new byte[1];
            while (await stream.ReadAsync(buffer, token) > 0)
            {
                await stream.WriteAsync(buffer, token);
            }
        });
        var policy = OnlyPort(origin.Port, "Allow");
        policy["RequireSniMatch"] = "Off";
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());

        await proxy.RewriteConfigAsync(ProxyServer.Config(OnlyPort(origin.Port, "Deny")));
        await WaitUntilAsync(async () =>
        {
            await using var probe = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
            await probe.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n");
            return (await probe.ReadHeadAsync()).StartsWith("HTTP/1.1 403", StringComparison.Ordinal);
        }, "the deny policy");

        await raw.SendAsync("still here");
        Assert.Equal("still here", Encoding.ASCII.GetString(await raw.ReadExactlyAsync(10)));
    }
}

internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IReadOnlyCollection<string> Messages => _messages;

    public ILogger CreateLogger(string categoryName) => new Logger(_messages);

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<string> messages) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            messages.Enqueue(formatter(state, exception));
    }
}
