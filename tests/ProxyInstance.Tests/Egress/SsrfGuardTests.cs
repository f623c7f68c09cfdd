using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Egress;

/// <summary>
/// The SSRF guard end to end, over real sockets. The forbidden destination is 127.0.0.2 (outside the allowed
/// 127.0.0.1/32), where an origin listens and counts connections, so a broken guard shows up as a connection
/// there and still never sends a packet beyond loopback; the test connector refuses anything else.
/// </summary>
public sealed class SsrfGuardTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string> LoopbackTwoNotations => new()
    {
        "127.0.0.2",
        "2130706434",
        "0x7f000002",
        "0X7F.0.0.2",
        "0177.0.0.2",
        "0177.0000.0000.0002",
        "127.2",
        "127.0.2",
        "0x7f.0.0.2",
        "127.0.0.2.",
        "[::ffff:127.0.0.2]",
        "[::ffff:7f00:2]",
        "[64:ff9b::7f00:2]",
        "[2002:7f00:2::1]",
    };

    private static async Task<(OriginServer Forbidden, TestNetwork Network, ProxyServer Proxy)> StartAsync()
    {
        var forbidden = await OriginServer.StartAsync(IPAddress.Parse("127.0.0.2"));
        var network = new TestNetwork()
            .Map("metadata.example.com", IPAddress.Parse("169.254.169.254"))
            .Map("internal.example.com", IPAddress.Parse("127.0.0.2"))
            .Map("mixed.example.com", IPAddress.Parse("10.1.2.3"), IPAddress.Parse("127.0.0.2"));
        var policy = ProxyServer.AllowAll(forbidden.Port);
        var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy), network);
        return (forbidden, network, proxy);
    }

    [Theory]
    [MemberData(nameof(LoopbackTwoNotations))]
    public async Task PlainHttp_PrivateLiteralInAnyNotation_Returns403AndConnectsNowhere(string host)
    {
        var (forbidden, network, proxy) = await StartAsync();
        await using (forbidden)
        await using (proxy)
        {
            var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, $"GET http://{host}:{forbidden.Port}/secret HTTP/1.1\r\nHost: {host}:{forbidden.Port}\r\nConnection: close\r\n\r\n");

            Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", response, StringComparison.Ordinal);
            Assert.Contains("X-Proxy-Error: ERR_DESTINATION_PRIVATE", response, StringComparison.Ordinal);
            Assert.Equal(0, forbidden.Connections);
            Assert.Empty(network.Dialled);
            Assert.Empty(network.Refused);
        }
    }

    [Theory]
    [MemberData(nameof(LoopbackTwoNotations))]
    public async Task Connect_PrivateLiteralInAnyNotation_Returns403AndConnectsNowhere(string host)
    {
        var (forbidden, network, proxy) = await StartAsync();
        await using (forbidden)
        await using (proxy)
        {
            var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, $"CONNECT {host}:{forbidden.Port} HTTP/1.1\r\n\r\n");

            // Notations a strict CONNECT parser refuses outright (400) are as safe as a 403: nothing is dialled.
            Assert.Matches(@"^HTTP/1\.1 (403 Forbidden\r\n[\s\S]*X-Proxy-Error: ERR_DESTINATION_PRIVATE|400 Bad Request)", response);
            Assert.DoesNotContain(" 200 ", response, StringComparison.Ordinal);
            Assert.Equal(0, forbidden.Connections);
            Assert.Empty(network.Dialled);
            Assert.Empty(network.Refused);
        }
    }

    [Theory]
    [InlineData("169.254.169.254", 80)]
    [InlineData("[fd00:ec2::254]", 80)]
    [InlineData("metadata.example.com", 80)]
    [InlineData("internal.example.com", 80)]
    [InlineData("mixed.example.com", 80)]
    [InlineData("[::1]", 80)]
    [InlineData("0.0.0.0", 80)]
    [InlineData("10.0.0.1", 443)]
    [InlineData("100.64.0.1", 443)]
    [InlineData("[fe80::1]", 443)]
    [InlineData("224.0.0.1", 80)]
    [InlineData("255.255.255.255", 80)]
    public async Task Connect_MetadataPrivateAndSpecialDestinations_Return403(string host, int port)
    {
        var (forbidden, network, proxy) = await StartAsync();
        await using (forbidden)
        await using (proxy)
        {
            var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, $"CONNECT {host}:{port} HTTP/1.1\r\n\r\n");

            Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", response, StringComparison.Ordinal);
            Assert.Contains("X-Proxy-Error: ERR_DESTINATION_PRIVATE", response, StringComparison.Ordinal);
            Assert.Empty(network.Dialled);
            Assert.Empty(network.Refused);
            Assert.Equal(0, forbidden.Connections);
        }
    }

    [Theory]
    [InlineData("2852039166")]
    [InlineData("0xa9fea9fe")]
    [InlineData("0251.0376.0251.0376")]
    [InlineData("169.254.43518")]
    [InlineData("[::ffff:169.254.169.254]")]
    public async Task PlainHttp_MetadataInAnyNotation_Returns403(string host)
    {
        var (forbidden, network, proxy) = await StartAsync();
        await using (forbidden)
        await using (proxy)
        {
            var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, $"GET http://{host}/latest/meta-data/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");

            Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", response, StringComparison.Ordinal);
            Assert.Contains("169.254.169.254 (cloud metadata service)", response, StringComparison.Ordinal);
            Assert.Empty(network.Dialled);
            Assert.Empty(network.Refused);
        }
    }

    [Fact]
    public async Task PlainHttp_NameResolvingToMetadata_Returns403NamingTheAddress()
    {
        var (forbidden, network, proxy) = await StartAsync();
        await using (forbidden)
        await using (proxy)
        {
            using var client = proxy.CreateClient();
            using var response = await client.GetAsync("http://metadata.example.com/latest/meta-data/", Token);

            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("ERR_DESTINATION_PRIVATE", response.Headers.GetValues("X-Proxy-Error").Single());
            Assert.Contains("169.254.169.254 (cloud metadata service)", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
            Assert.Empty(network.Dialled);
        }
    }

    [Fact]
    public async Task Rebinding_AnswerChangesAfterTheCheck_OnlyTheCheckedAddressIsDialled()
    {
        await using var allowed = await OriginServer.StartAsync(IPAddress.Loopback);
        await using var forbidden = await OriginServer.StartAsync(IPAddress.Parse("127.0.0.2"));
        // First answer: the allowed origin. Every later answer: the forbidden one. A proxy that looked the name
        // up again after checking it would reach 127.0.0.2.
        var network = new TestNetwork().MapChanging("rebind.example.com",
            n => [n == 1 ? IPAddress.Loopback : IPAddress.Parse("127.0.0.2")]);
        // No DNS cache, so that the second dial looks the name up again (as it does once Dns.CacheTtl is over).
        var config = ProxyServer.Config(ProxyServer.AllowAll(allowed.Port, forbidden.Port), customize: p => p["Dns"]!["CacheTtl"] = "00:00:00");
        await using var proxy = await ProxyServer.StartAsync(config, network);
        using var client = proxy.CreateClient();

        using var first = await client.GetAsync($"http://rebind.example.com:{allowed.Port}/", Token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(1, network.Lookups["rebind.example.com"]);
        Assert.Equal(0, forbidden.Connections);

        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        await raw.SendAsync($"CONNECT rebind.example.com:{forbidden.Port} HTTP/1.1\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 403", await raw.ReadHeadAsync(), StringComparison.Ordinal);
        Assert.Equal(2, network.Lookups["rebind.example.com"]);
        Assert.Equal(0, forbidden.Connections);
        Assert.All(network.Dialled, e => Assert.Equal(IPAddress.Loopback, e.Address));
    }

    [Fact]
    public async Task AllowedPrivateDestinations_Exempts_OnlyThatRange()
    {
        await using var second = await OriginServer.StartAsync(IPAddress.Parse("127.0.0.2"));
        var policy = ProxyServer.AllowAll(second.Port);
        policy["AllowedPrivateDestinations"] = new JsonArray("127.0.0.2/32");
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy), new TestNetwork());
        using var client = proxy.CreateClient();

        using var exempt = await client.GetAsync($"http://127.0.0.2:{second.Port}/ok", Token);
        using var notExempt = await client.GetAsync($"http://127.0.0.3:{second.Port}/no", Token);

        Assert.Equal(HttpStatusCode.OK, exempt.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, notExempt.StatusCode);
    }

    [Fact]
    public async Task DenyPrivateDestinationsOff_AllowsLoopbackDestinations()
    {
        await using var origin = await OriginServer.StartAsync(IPAddress.Parse("127.0.0.2"));
        var policy = ProxyServer.AllowAll(origin.Port);
        policy["DenyPrivateDestinations"] = false;
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy), new TestNetwork());
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync($"http://127.0.0.2:{origin.Port}/open", Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
