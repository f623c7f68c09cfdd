using System.Net;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Egress;
using EgressLab.ProxyInstance.Tests.TestHost;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Tests.Egress;

/// <summary>
/// The name the proxy looks up is the one the policy judged: lower case, no trailing dot, punycode. A hosts file (and
/// the test resolver) matches names exactly, so <c>Example.COM.</c> must be asked for as <c>example.com</c>.
/// </summary>
public sealed class CanonicalNameTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("Example.COM.", "example.com")]
    [InlineData("www.example.com.", "www.example.com")]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    public void TryCanonicalName_GivesThePolicysForm(string host, string expected)
    {
        Assert.True(EgressTarget.TryCanonicalName(host, out var name));
        Assert.Equal(expected, name);
    }

    [Fact]
    public void TryCanonicalName_AlreadyCanonical_ReturnsTheSameString()
    {
        var host = "www.example.com";
        Assert.True(EgressTarget.TryCanonicalName(host, out var name));
        Assert.Same(host, name);
    }

    [Theory]
    [InlineData(false, "http://WWW.Example.COM.:{port}/dot")]
    [InlineData(false, "http://www.example.com.:{port}/dot")]
    [InlineData(true, "http://WWW.Example.COM.:{port}/dot")]
    [InlineData(true, "http://www.example.com.:{port}/dot")]
    public async Task Request_NameWithTrailingDot_IsResolvedAsTheNameThePolicyAllowed(bool tunnel, string url)
    {
        await using var origin = await OriginServer.StartAsync();
        var network = new TestNetwork().Map("www.example.com", IPAddress.Loopback);
        var policy = new JsonObject
        {
            ["Rules"] = new JsonArray(new JsonObject { ["Name"] = "example", ["Action"] = "Allow", ["Domains"] = new JsonArray("www.example.com"), ["Ports"] = new JsonArray(origin.Port) }),
            ["RequireSniMatch"] = "Off",
        };

        // No Dns.Hosts entry: the name goes to the resolver, which, like a hosts file, knows only "www.example.com".
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy, new Dictionary<string, string>()), network);
        var target = url.Replace("{port}", origin.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        var authority = new Uri(target).Authority;
        var rawAuthority = target["http://".Length..target.IndexOf("/dot", StringComparison.Ordinal)];
        if (tunnel)
        {
            await raw.SendAsync($"CONNECT {rawAuthority} HTTP/1.1\r\nHost: {rawAuthority}\r\n\r\n");
            Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
            await raw.SendAsync($"GET /dot HTTP/1.1\r\nHost: {rawAuthority}\r\nConnection: close\r\n\r\n");
        }
        else
        {
            await raw.SendAsync($"GET {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
        }

        var head = await raw.ReadHeadAsync();
        Assert.True(head.StartsWith("HTTP/1.1 200 OK\r\n", StringComparison.Ordinal), head);
        Assert.Equal("GET /dot from origin", await raw.ReadBodyAsync(head));
        Assert.Equal(1, network.Lookups.GetValueOrDefault("www.example.com"));
    }

    [Fact]
    public async Task Request_StaticHostWrittenInUnicode_MatchesItsPunycodeName()
    {
        await using var origin = await OriginServer.StartAsync();
        var network = new TestNetwork();
        var policy = new JsonObject
        {
            ["Rules"] = new JsonArray(new JsonObject { ["Name"] = "books", ["Action"] = "Allow", ["Domains"] = new JsonArray("bücher.example"), ["Ports"] = new JsonArray(origin.Port) }),
        };
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy, new Dictionary<string, string> { ["Bücher.example."] = "127.0.0.1" }), network);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync($"http://xn--bcher-kva.example:{origin.Port}/books", Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(network.Lookups);
    }
}
