using System.Net;
using System.Security.Cryptography;
using EgressLab.ProxyInstance.Connections;
using EgressLab.ProxyInstance.Tests.TestHost;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace EgressLab.ProxyInstance.Tests.Connections;

public sealed class ConnectionMemoryPoolTests
{
    [Fact]
    public void Rent_AnySizeUpToABlock_IsAWholeBlockAndIsReusedOnceReturned()
    {
        using var pool = new ConnectionMemoryPool();

        var first = pool.Rent(2048);
        Assert.Equal(ConnectionMemoryPool.BlockSize, first.Memory.Length);
        Assert.Equal(ConnectionMemoryPool.BlockSize, pool.MaxBufferSize);
        first.Memory.Span[0] = 42;
        first.Dispose();
        Assert.Equal(1, pool.Pooled);

        using var second = pool.Rent();
        Assert.Same(first, second);
        Assert.Equal(0, pool.Pooled);
        Assert.Equal(2, pool.Rents);
    }

    [Fact]
    public void Dispose_Twice_ReturnsTheBlockOnce()
    {
        using var pool = new ConnectionMemoryPool();
        var block = pool.Rent();

        block.Dispose();
        block.Dispose();

        Assert.Equal(1, pool.Pooled);
        var a = pool.Rent();
        var b = pool.Rent();
        Assert.NotSame(a, b);
    }

    [Fact]
    public void Rent_MoreThanABlock_GetsMemoryOfItsOwnThatIsNeverPooled()
    {
        using var pool = new ConnectionMemoryPool();

        var large = pool.Rent(ConnectionMemoryPool.BlockSize + 1);
        Assert.True(large.Memory.Length >= ConnectionMemoryPool.BlockSize + 1);
        large.Dispose();

        Assert.Equal(0, pool.Pooled);
    }

    [Fact]
    public void Return_PastTheCap_LeavesTheRestToTheCollector()
    {
        using var pool = new ConnectionMemoryPool();
        var blocks = Enumerable.Range(0, ConnectionMemoryPool.MaxPooledBlocks + 10).Select(_ => pool.Rent()).ToList();

        blocks.ForEach(b => b.Dispose());

        Assert.Equal(ConnectionMemoryPool.MaxPooledBlocks, pool.Pooled);
    }

    /// <summary>
    /// Kestrel takes its pools from the proxy's factory: an upload, plain and through a tunnel, is read into the proxy's
    /// 32 KiB blocks (not Kestrel's 4 KiB ones) and arrives whole.
    /// </summary>
    [Fact]
    public async Task Proxy_KestrelReadsClientBytesIntoTheProxysBlocks()
    {
        await using var origin = await OriginServer.StartAsync();
        var network = new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(
            ProxyServer.Config(ProxyServer.AllowAll(origin.Port), customize: p => p["Policy"]!["RequireSniMatch"] = "Off"), network);
        var factory = Assert.IsType<ConnectionMemoryPoolFactory>(proxy.Services.GetRequiredService<IMemoryPoolFactory<byte>>());
        var rentsBefore = factory.Created.Sum(p => p.Rents);
        var body = RandomNumberGenerator.GetBytes(4 << 20);
        var expected = $"{body.Length} {Convert.ToHexStringLower(SHA256.HashData(body))}";

        foreach (var tunnel in new[] { false, true })
        {
            using var handler = new SocketsHttpHandler { Proxy = new WebProxy(proxy.ProxyUri), UseProxy = true };
            using var client = new HttpClient(handler);
            // An http:// URL goes through the proxy in absolute form; a tunnel is asked for with a CONNECT first.
            using var request = new HttpRequestMessage(HttpMethod.Post, $"http://www.example.com:{origin.Port}/sha256") { Content = new ByteArrayContent(body) };
            if (tunnel)
            {
                await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
                await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\nHost: www.example.com:{origin.Port}\r\n\r\n");
                Assert.StartsWith("HTTP/1.1 200", await raw.ReadHeadAsync(), StringComparison.Ordinal);
                await raw.SendAsync($"POST /sha256 HTTP/1.1\r\nHost: www.example.com:{origin.Port}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                await raw.SendAsync(body);
                var head = await raw.ReadHeadAsync();
                Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);
                Assert.Equal(expected, await raw.ReadBodyAsync(head));
            }
            else
            {
                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(expected, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            }
        }

        Assert.True(factory.Created.Sum(p => p.Rents) > rentsBefore, "Kestrel rented no block from the proxy's pool");
    }
}
