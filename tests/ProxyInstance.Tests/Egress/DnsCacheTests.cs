using System.Net;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Egress;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Egress;

public sealed class DnsCacheTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private static readonly IPAddress[] Answer = [IPAddress.Parse("198.51.100.7")];

    [Fact]
    public void TryGet_WithinTheTtl_GivesTheStoredAnswer_AfterItNothing()
    {
        var clock = new ManualClock();
        var cache = new DnsCache(clock);
        cache.Store("api.example.com", Answer, Ttl);

        clock.Advance(Ttl - TimeSpan.FromTicks(1));
        Assert.True(cache.TryGet("api.example.com", Ttl, out var cached));
        Assert.Same(Answer, cached);

        clock.Advance(TimeSpan.FromTicks(1));
        Assert.False(cache.TryGet("api.example.com", Ttl, out _));
        Assert.False(cache.TryGet("other.example.com", Ttl, out _));
    }

    [Fact]
    public void Store_TtlZeroOrNoAddresses_KeepsNothing()
    {
        var cache = new DnsCache(new ManualClock());

        cache.Store("api.example.com", Answer, TimeSpan.Zero);
        cache.Store("empty.example.com", [], Ttl);

        Assert.Equal(0, cache.Count);
        Assert.False(cache.TryGet("api.example.com", TimeSpan.Zero, out _));
    }

    [Fact]
    public void Store_Full_DropsExpiredEntriesFirstThenEverything()
    {
        var clock = new ManualClock();
        var cache = new DnsCache(clock);
        for (var i = 0; i < DnsCache.MaxEntries / 2; i++)
        {
            cache.Store($"old{i}.example.com", Answer, Ttl);
        }

        clock.Advance(Ttl);
        for (var i = 0; i < DnsCache.MaxEntries / 2; i++)
        {
            cache.Store($"new{i}.example.com", Answer, Ttl);
        }

        cache.Store("one-more.example.com", Answer, Ttl);
        Assert.Equal((DnsCache.MaxEntries / 2) + 1, cache.Count);
        Assert.True(cache.TryGet("new0.example.com", Ttl, out _));

        for (var i = cache.Count; i < DnsCache.MaxEntries; i++)
        {
            cache.Store($"fill{i}.example.com", Answer, Ttl);
        }

        cache.Store("overflow.example.com", Answer, Ttl);
        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGet("overflow.example.com", Ttl, out _));
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData("00:00:00", 3)]
    public async Task Proxy_RepeatedTunnelsToOneName_AreLookedUpOncePerTtl(string? ttl, int lookups)
    {
        await using var origin = await OriginServer.StartAsync();
        // Not in the config's Dns.Hosts (which answer without DNS): the test network resolves it.
        var network = new TestNetwork().Map("api.example.net", IPAddress.Loopback);
        var config = ProxyServer.Config(ProxyServer.AllowAll(origin.Port), customize: p =>
        {
            p["Policy"]!["RequireSniMatch"] = "Off";
            if (ttl is not null)
            {
                p["Dns"]!["CacheTtl"] = ttl;
            }
        });
        await using var proxy = await ProxyServer.StartAsync(config, network);

        for (var i = 0; i < 3; i++)
        {
            await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
            await raw.SendAsync($"CONNECT api.example.net:{origin.Port} HTTP/1.1\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 200", await raw.ReadHeadAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(lookups, network.Lookups["api.example.net"]);
    }

    [Fact]
    public async Task Proxy_FailedLookup_IsNotKept()
    {
        var network = new TestNetwork().MapFailing("gone.example.com", System.Net.Sockets.SocketError.HostNotFound);
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(443)), network);

        for (var i = 0; i < 2; i++)
        {
            await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
            await raw.SendAsync("CONNECT gone.example.com:443 HTTP/1.1\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 502", await raw.ReadHeadAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(2, network.Lookups["gone.example.com"]);
    }

    [Theory]
    [InlineData("-00:00:01")]
    [InlineData("01:00:01")]
    public void Load_CacheTtlOutOfRange_IsAnErrorSayingWhatToWrite(string ttl)
    {
        var config = ProxyServer.Config(ProxyServer.AllowAll(443), customize: p => p["Dns"]!["CacheTtl"] = ttl);
        var path = Path.Combine(Path.GetTempPath(), $"dns-cache-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, config.ToJsonString());
        try
        {
            var loaded = SettingsLoader.Load(new ConfigSource(path, UseEnvironment: false));

            Assert.Null(loaded.Settings);

            var error = Assert.Single(loaded.Errors);
            Assert.Equal("Proxy:Dns:CacheTtl", error.Path);
            Assert.Contains("use \"00:00:00\" (no cache) to \"01:00:00\"", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
