using System.Net;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Targets;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Targets;

/// <summary>
/// One grammar for destinations: every notation of a host is brought to one canonical form, and the CONNECT and
/// absolute-form HTTP paths judge each notation alike (the same verdict, the same address dialled).
/// </summary>
public sealed class EgressTargetTests
{
    [Theory]
    [InlineData("www.example.com", "www.example.com", false)]
    [InlineData("WWW.Example.COM.", "www.example.com", false)]
    [InlineData("bücher.example", "xn--bcher-kva.example", false)]
    [InlineData("127.0.0.1", "127.0.0.1", true)]
    [InlineData("127.1", "127.0.0.1", true)]
    [InlineData("0x7f.1", "127.0.0.1", true)]
    [InlineData("2130706433", "127.0.0.1", true)]
    [InlineData("017700000001", "127.0.0.1", true)]
    [InlineData("[::1]", "::1", true)]
    [InlineData("::1", "::1", true)]
    [InlineData("[0:0:0:0:0:0:0:1]", "::1", true)]
    public void TryCreate_AnyNotation_GivesTheCanonicalHost(string host, string canonical, bool isAddress)
    {
        Assert.True(EgressTarget.TryCreate(host, 443, out var target));
        Assert.Equal(canonical, target.Host);
        Assert.Equal(isAddress, target.IsAddress);
        Assert.True(target.IsHost(host));
    }

    [Theory]
    [InlineData("1.2.3.999")]
    [InlineData("1.2.3.4.5")]
    [InlineData("0x1g.1")]
    [InlineData("exa mple.com")]
    [InlineData("")]
    [InlineData("[1::2::3]")]
    public void TryCreate_NeitherNameNorAddress_Fails(string host) =>
        Assert.False(EgressTarget.TryCreate(host, 443, out _));

    [Fact]
    public void UriHost_BracketsIPv6Only()
    {
        Assert.True(EgressTarget.TryCreate("::1", 80, out var v6));
        Assert.True(EgressTarget.TryCreate("127.1", 80, out var v4));
        Assert.Equal("[::1]", v6.UriHost);
        Assert.Equal("127.0.0.1", v4.UriHost);
    }

    /// <summary>Each notation, and the outcome both paths must give it: "allowed" or the refusal's code.</summary>
    public static TheoryData<string, string> Notations => new()
    {
        { "127.0.0.1", "allowed" },
        { "127.1", "allowed" },
        { "0x7f.0.0.1", "allowed" },
        { "2130706433", "allowed" },
        { "0177.0.0.1", "allowed" },
        { "[::ffff:127.0.0.1]", "allowed" },
        { "www.example.com", "allowed" },
        { "WWW.Example.COM.", "allowed" },
        { "[::1]", "ERR_DESTINATION_PRIVATE" },
        { "127.0.0.2", "ERR_DESTINATION_PRIVATE" },
        { "1.2.3.999", "ERR_INVALID_REQUEST" },
        { "denied.example.net", "ERR_ACCESS_DENIED" },
    };

    [Theory]
    [MemberData(nameof(Notations))]
    public async Task BothPaths_JudgeEveryNotationAlike(string host, string expected)
    {
        await using var origin = await OriginServer.StartAsync();
        var policy = new JsonObject
        {
            ["RequireSniMatch"] = "Off",
            ["Rules"] = new JsonArray(
                new JsonObject { ["Name"] = "deny-denied", ["Action"] = "Deny", ["Domains"] = new JsonArray("denied.example.net"), ["Ports"] = new JsonArray(origin.Port) },
                new JsonObject { ["Name"] = "origin", ["Action"] = "Allow", ["Ports"] = new JsonArray(origin.Port) }),
        };
        var port = origin.Port;

        var tunnel = await OutcomeAsync(policy, async raw =>
        {
            await raw.SendAsync($"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n");
            return await raw.ReadHeadAsync();
        });
        var plain = await OutcomeAsync(policy, async raw =>
        {
            await raw.SendAsync($"GET http://{host}:{port}/same HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
            return await raw.ReadHeadAsync();
        });

        Assert.Equal(expected, tunnel.Outcome);
        Assert.Equal(expected, plain.Outcome);
        Assert.Equal(tunnel.Dialled, plain.Dialled);
        if (expected == "allowed")
        {
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), tunnel.Dialled);
        }
    }

    private static async Task<(string Outcome, IPEndPoint? Dialled)> OutcomeAsync(JsonObject policy, Func<RawClient, Task<string>> exchange)
    {
        var network = new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy.DeepClone().AsObject()), network);
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        var head = await exchange(raw);
        var status = head.Split(' ', 3)[1];
        var code = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("X-Proxy-Error: ", StringComparison.Ordinal))?["X-Proxy-Error: ".Length..];
        var outcome = status == "200" ? "allowed" : code ?? $"status {status}";
        return (outcome, network.Dialled.LastOrDefault());
    }
}
