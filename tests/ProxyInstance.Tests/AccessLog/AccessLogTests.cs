using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.AccessLog;

public sealed class AccessLogTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task JsonFormat_OneObjectPerRequestWithDecisionRuleAndTimings()
    {
        await using var origin = await OriginServer.StartAsync();
        var lines = await JsonLinesAsync(origin, async client =>
        {
            (await client.GetAsync($"http://www.example.com:{origin.Port}/bytes/123", Token)).Dispose();
            (await client.GetAsync("http://www.example.com:1/", Token)).Dispose();
        });

        Assert.Equal(2, lines.Length);
        using var allowed = JsonDocument.Parse(lines[0]);
        using var denied = JsonDocument.Parse(lines[1]);
        var a = allowed.RootElement;
        Assert.Equal("TCP_MISS/200", a.GetProperty("result").GetString());
        Assert.Equal("allow", a.GetProperty("decision").GetString());
        Assert.Equal("allow-all", a.GetProperty("rule").GetString());
        Assert.Equal("127.0.0.1", a.GetProperty("upstream").GetString());
        Assert.Equal("127.0.0.1", a.GetProperty("client").GetString());
        Assert.Equal(123, a.GetProperty("bytes_down").GetInt64());
        Assert.True(a.GetProperty("connect_ms").GetDouble() >= 0);
        var d = denied.RootElement;
        Assert.Equal("TCP_DENIED/403", d.GetProperty("result").GetString());
        Assert.Equal("deny", d.GetProperty("decision").GetString());
        Assert.Equal("ERR_ACCESS_DENIED", d.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, d.GetProperty("upstream").ValueKind);
    }

    [Fact]
    public async Task JsonFormat_ReusedOriginConnection_EveryRequestNamesItsUpstream()
    {
        await using var origin = await OriginServer.StartAsync();
        var lines = await JsonLinesAsync(origin, async client =>
        {
            for (var i = 0; i < 3; i++)
            {
                (await client.GetAsync($"http://www.example.com:{origin.Port}/bytes/{i + 1}", Token)).Dispose();
            }
        });

        Assert.Equal(1, origin.Connections);
        var entries = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.Equal("127.0.0.1", e.GetProperty("upstream").GetString()));

        // The first request waited for the connection to open; the others went out on it as it was.
        Assert.True(entries[0].GetProperty("connect_ms").GetDouble() > 0);
        Assert.All(entries.Skip(1), e => Assert.Equal(0, e.GetProperty("connect_ms").GetDouble()));
        Assert.All(entries.Skip(1), e => Assert.Equal(0, e.GetProperty("dns_ms").GetDouble()));
    }

    /// <summary>Runs <paramref name="requests"/> through a proxy that logs JSON, stops it and returns the log's lines.</summary>
    private static async Task<string[]> JsonLinesAsync(OriginServer origin, Func<HttpClient, Task> requests)
    {
        var accessLog = Path.Combine(Path.GetTempPath(), $"egress-json-{Guid.NewGuid():N}.log");
        var config = ProxyServer.Config(ProxyServer.AllowAll(origin.Port), customize: p =>
            p["AccessLog"] = new JsonObject { ["Format"] = "json", ["Path"] = accessLog });
        try
        {
            await using (var proxy = await ProxyServer.StartAsync(config, new TestNetwork()))
            {
                using var client = proxy.CreateClient();
                await requests(client);
            }

            // Disposing the proxy drains the log queue, so every line is on disk now.
            return await File.ReadAllLinesAsync(accessLog, Token);
        }
        finally
        {
            File.Delete(accessLog);
        }
    }

    [Theory]
    [InlineData("copytruncate")]
    [InlineData("create")]
    public async Task Rotation_ByTruncateOrRename_NextLinesStartTheNewFileCleanly(string mode)
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        using var client = proxy.CreateClient();
        (await client.GetAsync($"http://www.example.com:{origin.Port}/before", Token)).Dispose();
        await proxy.AccessLogLinesAsync(1);

        if (mode == "copytruncate")
        {
            File.Copy(proxy.AccessLogPath, proxy.AccessLogPath + ".1");
            await using (new FileStream(proxy.AccessLogPath, FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite))
            {
            }
        }
        else
        {
            File.Move(proxy.AccessLogPath, proxy.AccessLogPath + ".1");
        }

        (await client.GetAsync($"http://www.example.com:{origin.Port}/after", Token)).Dispose();

        var line = Assert.Single(await proxy.AccessLogLinesAsync(1));
        Assert.Contains("/after", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\0', line);
        Assert.Contains("/before", await File.ReadAllTextAsync(proxy.AccessLogPath + ".1", Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SquidFormat_NeverContainsCredentials()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        using var client = proxy.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://www.example.com:{origin.Port}/x");
        request.Headers.TryAddWithoutValidation("Proxy-Authorization", "Basic c2VjcmV0LXRva2VuOnB3");
        request.Headers.TryAddWithoutValidation("Cookie", "session=secret-cookie");

        using var response = await client.SendAsync(request, Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var line = Assert.Single(await proxy.AccessLogLinesAsync(1));
        Assert.DoesNotContain("c2VjcmV0", line, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-cookie", line, StringComparison.Ordinal);
    }
}
