using System.Net;
using System.Text;
using EgressLab.ProxyInstance.Tests.TestHost;
using EgressLab.ProxyInstance.Tests.Tunnel;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Tests.Robustness;

/// <summary>
/// SSRF bypass attempts end to end, on both the plain-HTTP and the CONNECT path, beyond what
/// <see cref="Egress.SsrfGuardTests"/> covers: every notation of the metadata address, IPv6 embeddings and zone ids,
/// each private class as a literal and as a DNS answer, mixed answers and rebinding. Each must be refused with
/// 403 ERR_DESTINATION_PRIVATE naming the class it fell in (or 400 where the strict CONNECT parser, or Kestrel,
/// refuses the notation itself), and nothing may be dialled: the test network's connector records every dial, and
/// loopback targets meet a counting origin on 127.0.0.2 or ::1 that must see no connection.
/// </summary>
public sealed class SsrfBypassTests : RobustnessTest
{
    private const string Metadata = "cloud metadata service";
    private const string Private = "private network";
    private const string Cgnat = "carrier-grade NAT";
    private const string LinkLocal = "link-local";
    private const string Unspecified = "unspecified";
    private const string Loopback = "loopback";

    // ::1 is on the host's loopback interface, and the guard names the proxy's own addresses as such.
    private const string LoopbackOrOwn = "loopback|the proxy's own address";

    /// <summary>
    /// 169.254.169.254 in notations SsrfGuardTests tries on neither path. Both paths read every notation with one
    /// grammar (the WHATWG URL IPv4 forms included) and refuse it as the metadata address.
    /// </summary>
    public static TheoryData<string> MetadataNotations => new()
    {
        { "169.254.169.254." },
        { "2852039166." },
        { "0xA9FEA9FE" },
        { "0xa9.0xfe.0xa9.0xfe" },
        { "0xa9.254.0251.0376" },
        { "169.16689662" },
        { "169.254.0xa9fe" },
        { "025177524776" },
        { "00000251.00000376.00000251.00000376" },
        { "[::ffff:a9fe:a9fe]" },
        { "[0:0:0:0:0:ffff:a9fe:a9fe]" },
        { "[::ffff:0:a9fe:a9fe]" },
        { "[::169.254.169.254]" },
        { "[64:ff9b::a9fe:a9fe]" },
        { "[64:ff9b::169.254.169.254]" },
        { "[64:ff9b:1::a9fe:a9fe]" },
        { "[2002:a9fe:a9fe::]" },
        { "[2002:a9fe:a9fe:1::1]" },
        { "[2001:0:4136:e378:8000:63bf:5601:5601]" },
        { "[FD00:EC2:0:0:0:0:0:254]" },
        { "[fd00:ec2::23]" },
        { "169.254.170.2" },
    };

    /// <summary>Notations SsrfGuardTests tries on the plain-HTTP path only.</summary>
    public static TheoryData<string> MetadataNotationsForConnect => new()
    {
        { "2852039166" },
        { "0xa9fea9fe" },
        { "0251.0376.0251.0376" },
        { "169.254.43518" },
        { "[::ffff:169.254.169.254]" },
    };

    /// <summary>The private classes that are not loopback, each in several notations.</summary>
    public static TheoryData<string, string> PrivateLiterals => new()
    {
        { "10.255.255.255", Private },
        { "012.1.2.3", Private },
        { "0xa.1.2.3", Private },
        { "167772161", Private },
        { "10.1", Private },
        { "[::ffff:10.0.0.1]", Private },
        { "[64:ff9b::a00:1]", Private },
        { "172.16.0.1", Private },
        { "172.31.255.254", Private },
        { "0xac.0x10.0.1", Private },
        { "2886729729", Private },
        { "[::ffff:ac10:1]", Private },
        { "192.168.0.1", Private },
        { "192.168.255.255", Private },
        { "3232235521", Private },
        { "0300.0250.0.1", Private },
        { "192.168.1", Private },
        { "[2002:c0a8:1::]", Private },
        { "[fec0::1]", Private },
        { "100.64.0.1", Cgnat },
        { "100.127.255.254", Cgnat },
        { "100.100.100.200", Cgnat },
        { "0x64400001", Cgnat },
        { "[::ffff:100.64.0.1]", Cgnat },
        { "169.254.0.1", LinkLocal },
        { "169.254.255.255", LinkLocal },
        { "[fe80::1]", LinkLocal },
        { "[fe80::a9fe:a9fe]", LinkLocal },
        { "[febf:ffff::1]", LinkLocal },
        { "[fd12:3456::1]", "IPv6 unique-local" },
        { "[fc00::1]", "IPv6 unique-local" },
        { "[ff02::1]", "multicast" },
        { "239.255.255.250", "multicast" },
        { "240.0.0.1", "reserved" },
        { "0.1.2.3", "reserved" },
        { "198.18.0.1", "reserved" },
    };

    /// <summary>
    /// "This host" and IPv6 loopback forms: a connection to any of them lands on this machine. Expected status on
    /// the plain-HTTP path, then on CONNECT. Kestrel itself refuses an absolute-form target whose authority is
    /// <c>[::]</c> (its Host check), with a bare 400, before the proxy sees it.
    /// </summary>
    public static TheoryData<string, string, int, int> LocalLiterals => new()
    {
        { "0", Unspecified, 403, 403 },
        { "0.0.0.0", Unspecified, 403, 403 },
        { "0.0.0.0.", Unspecified, 403, 403 },
        { "0x0", Unspecified, 403, 403 },
        { "00", Unspecified, 403, 403 },
        { "0.0", Unspecified, 403, 403 },
        { "[::]", Unspecified, 400, 403 },
        { "[0:0:0:0:0:0:0:0]", Unspecified, 400, 403 },
        { "[::ffff:0.0.0.0]", Unspecified, 403, 403 },
        { "[::1]", LoopbackOrOwn, 403, 403 },
        { "[0:0:0:0:0:0:0:1]", LoopbackOrOwn, 403, 403 },
        { "[::0:1]", LoopbackOrOwn, 403, 403 },
        { "127.255.255.254", Loopback, 403, 403 },
    };

    /// <summary>
    /// IPv6 literals with a zone id: the zone must not hide the link-local or metadata address. The CONNECT parser
    /// takes no zone at all (400).
    /// </summary>
    public static TheoryData<string, string> ZonedLiterals => new()
    {
        { "[fe80::1%25eth0]", LinkLocal },
        { "[fe80::1%251]", LinkLocal },
        { "[fe80::a9fe:a9fe%25lo]", LinkLocal },
        { "[fd00:ec2::254%25eth0]", Metadata },
        { "[::ffff:169.254.169.254%25eth0]", Metadata },
        { "[fe80::1%eth0]", LinkLocal },
        { "[fd00:ec2::254%eth0]", Metadata },
    };

    /// <summary>DNS answers in every private class, as names the test resolver maps.</summary>
    public static TheoryData<string, string, string> PrivateAnswers => new()
    {
        { "ten.example.com", "10.1.2.3", Private },
        { "one-seven-two.example.com", "172.20.0.5", Private },
        { "one-nine-two.example.com", "192.168.10.20", Private },
        { "cgnat.example.com", "100.100.100.200", Cgnat },
        { "link-local.example.com", "169.254.10.10", LinkLocal },
        { "ecs.example.com", "169.254.170.2", Metadata },
        { "imds-v6.example.com", "fd00:ec2::254", Metadata },
        { "unspecified.example.com", "0.0.0.0", Unspecified },
        { "unspecified-v6.example.com", "::", Unspecified },
        { "loopback-v6.example.com", "::1", LoopbackOrOwn },
        { "link-local-v6.example.com", "fe80::1", LinkLocal },
        { "ula.example.com", "fd12:3456::1", "IPv6 unique-local" },
        { "mapped.example.com", "::ffff:10.0.0.1", Private },
        { "nat64.example.com", "64:ff9b::a9fe:a9fe", Metadata },
        { "six-to-four.example.com", "2002:a9fe:a9fe::1", Metadata },
        { "multicast.example.com", "239.1.2.3", "multicast" },
        { "reserved.example.com", "240.1.2.3", "reserved" },
    };

    [Theory]
    [MemberData(nameof(MetadataNotations))]
    public async Task PlainHttp_MetadataNotation_Returns403AndDialsNothing(string host)
    {
        await AssertRefusedAsync(host, 80, Metadata, tunnel: false);
    }

    [Theory]
    [MemberData(nameof(MetadataNotations))]
    [MemberData(nameof(MetadataNotationsForConnect))]
    public async Task Connect_MetadataNotation_Returns403AndDialsNothing(string host)
    {
        // One grammar for both paths: every notation the plain-HTTP path reads as an address, CONNECT reads alike.
        await AssertRefusedAsync(host, 443, Metadata, tunnel: true, expected: 403);
    }

    [Theory]
    [MemberData(nameof(PrivateLiterals))]
    public async Task PlainHttp_PrivateLiteral_Returns403NamingItsClass(string host, string addressClass)
    {
        await AssertRefusedAsync(host, 80, addressClass, tunnel: false);
    }

    [Theory]
    [MemberData(nameof(PrivateLiterals))]
    public async Task Connect_PrivateLiteral_Returns403NamingItsClass(string host, string addressClass)
    {
        await AssertRefusedAsync(host, 443, addressClass, tunnel: true, expected: 403);
    }

    [Theory]
    [MemberData(nameof(LocalLiterals))]
    public async Task PlainHttp_ThisHostLiteral_IsRefusedAndNoOriginSeesAConnection(string host, string addressClass, int plain, int connect)
    {
        _ = connect;
        await AssertLocalRefusedAsync(host, addressClass, tunnel: false, plain);
    }

    [Theory]
    [MemberData(nameof(LocalLiterals))]
    public async Task Connect_ThisHostLiteral_IsRefusedAndNoOriginSeesAConnection(string host, string addressClass, int plain, int connect)
    {
        _ = plain;
        await AssertLocalRefusedAsync(host, addressClass, tunnel: true, connect);
    }

    [Theory]
    [MemberData(nameof(ZonedLiterals))]
    public async Task PlainHttp_ZonedLiteral_Returns403NamingTheAddressClass(string host, string addressClass)
    {
        await AssertRefusedAsync(host, 80, addressClass, tunnel: false);
    }

    [Theory]
    [MemberData(nameof(ZonedLiterals))]
    public async Task Connect_ZonedLiteral_Returns400AndDialsNothing(string host, string addressClass)
    {
        await AssertRefusedAsync(host, 443, addressClass, tunnel: true, expected: 400);
    }

    [Theory]
    [MemberData(nameof(PrivateAnswers))]
    public async Task PlainHttp_NameResolvingToPrivateClass_Returns403(string name, string address, string addressClass)
    {
        var network = new TestNetwork().Map(name, IPAddress.Parse(address));
        await AssertRefusedAsync(name, 80, addressClass, tunnel: false, network);
        Assert.Equal(1, network.Lookups[name]);
    }

    [Theory]
    [MemberData(nameof(PrivateAnswers))]
    public async Task Connect_NameResolvingToPrivateClass_Returns403(string name, string address, string addressClass)
    {
        var network = new TestNetwork().Map(name, IPAddress.Parse(address));
        await AssertRefusedAsync(name, 443, addressClass, tunnel: true, network);
        Assert.Equal(1, network.Lookups[name]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Request_NameWithOnlyPrivateAnswers_Returns403NamingTheFirst(bool tunnel)
    {
        var network = new TestNetwork().Map("all-private.example.com",
            IPAddress.Parse("169.254.169.254"), IPAddress.Parse("10.0.0.1"), IPAddress.Parse("fd00:ec2::254"), IPAddress.IPv6Loopback);
        var response = await AssertRefusedAsync("all-private.example.com", 443, Metadata, tunnel, network);
        Assert.Contains("169.254.169.254 (cloud metadata service)", response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Request_StaticHostsEntryPointingAtMetadata_Returns403WithoutALookup(bool tunnel)
    {
        var network = new TestNetwork();
        var hosts = new Dictionary<string, string> { ["pinned.example.com"] = "169.254.169.254" };
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(443), hosts), network);
        RobustnessLedger.Requests();
        RobustnessLedger.BadInputs();

        var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, Request("pinned.example.com", 443, tunnel));

        AssertForbidden(response, Metadata);
        Assert.Empty(network.Lookups);
        Assert.Empty(network.Dialled);
        Assert.Empty(network.Refused);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task Request_NameWithPrivateAndAllowedAnswers_OnlyTheAllowedAddressIsDialled(bool tunnel, bool privateFirst)
    {
        // The documented rule (docs/configuration.md, SSRF guard) is to dial the answers that pass, so a mixed
        // answer is no 403; what must hold is that the private address is never dialled. 127.0.0.1 stands in for
        // a public address here: it is the one loopback address the test config exempts.
        await using var allowed = await OriginServer.StartAsync(IPAddress.Loopback);
        await using var forbidden = await OriginServer.StartAsync(IPAddress.Parse("127.0.0.2"));
        IPAddress[] answers = privateFirst ? [IPAddress.Parse("127.0.0.2"), IPAddress.Loopback] : [IPAddress.Loopback, IPAddress.Parse("127.0.0.2")];
        var network = new TestNetwork().Map("mixed.example.com", answers);
        var config = ProxyServer.Config(ProxyServer.AllowAll(allowed.Port, forbidden.Port), customize: p => p["Policy"]!["RequireSniMatch"] = "Off");
        await using var proxy = await ProxyServer.StartAsync(config, network);
        RobustnessLedger.Requests();
        RobustnessLedger.BadInputs();

        var status = await FetchThroughAsync(proxy, "mixed.example.com", allowed.Port, tunnel);

        Assert.Equal("HTTP/1.1 200 OK", status);
        Assert.Equal(0, forbidden.Connections);
        Assert.Equal(1, allowed.Connections);
        Assert.All(network.Dialled, e => Assert.Equal(IPAddress.Loopback, e.Address));
        Assert.Empty(network.Refused);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Request_NameWithPublicAndPrivateAnswers_PrivateAnswersAreNeverDialled(bool tunnel)
    {
        // A documentation-range address is public to the guard; the test connector refuses it without sending a
        // packet, so the request fails, but only after trying the public address alone.
        var network = new TestNetwork().Map("public-and-private.example.com",
            IPAddress.Parse("10.0.0.1"), IPAddress.Parse("198.51.100.7"), IPAddress.Parse("169.254.169.254"), IPAddress.Parse("fd00:ec2::254"));
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(443)), network);
        RobustnessLedger.Requests();
        RobustnessLedger.BadInputs();

        var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, Request("public-and-private.example.com", 443, tunnel));

        Assert.StartsWith("HTTP/1.1 502 Bad Gateway\r\n", response, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_CONNECT_FAIL\r\n", response, StringComparison.Ordinal);
        var attempt = Assert.Single(network.Refused);
        Assert.Equal(IPAddress.Parse("198.51.100.7"), attempt.Address);
        Assert.Empty(network.Dialled);
    }

    [Fact]
    public async Task Connect_Rebinding_TunnelGoesToTheCheckedAddressAfterOneLookup()
    {
        await using var allowed = await OriginServer.StartAsync(IPAddress.Loopback);
        await using var forbidden = await OriginServer.StartAsync(IPAddress.Parse("127.0.0.2"));
        var network = new TestNetwork().MapChanging("rebind.example.com", n => [n == 1 ? IPAddress.Loopback : IPAddress.Parse("127.0.0.2")]);
        var config = ProxyServer.Config(ProxyServer.AllowAll(allowed.Port, forbidden.Port), customize: p => p["Policy"]!["RequireSniMatch"] = "Off");
        await using var proxy = await ProxyServer.StartAsync(config, network);
        RobustnessLedger.Requests();
        RobustnessLedger.BadInputs();

        // A proxy that resolved once to check and again to dial would tunnel to 127.0.0.2.
        var status = await FetchThroughAsync(proxy, "rebind.example.com", allowed.Port, tunnel: true);

        Assert.Equal("HTTP/1.1 200 OK", status);
        Assert.Equal(1, network.Lookups["rebind.example.com"]);
        Assert.Equal(1, allowed.Connections);
        Assert.Equal(0, forbidden.Connections);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Request_FirstAnswerPrivate_Returns403WithoutLookingAgain(bool tunnel)
    {
        await using var allowed = await OriginServer.StartAsync(IPAddress.Loopback);
        await using var forbidden = await OriginServer.StartAsync(IPAddress.Parse("127.0.0.2"));
        var network = new TestNetwork().MapChanging("rebind.example.com", n => [n == 1 ? IPAddress.Parse("127.0.0.2") : IPAddress.Loopback]);
        var config = ProxyServer.Config(ProxyServer.AllowAll(allowed.Port, forbidden.Port));
        await using var proxy = await ProxyServer.StartAsync(config, network);
        RobustnessLedger.Requests();
        RobustnessLedger.BadInputs();

        var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, Request("rebind.example.com", forbidden.Port, tunnel));

        AssertForbidden(response, Loopback);
        Assert.Equal(1, network.Lookups["rebind.example.com"]);
        Assert.Empty(network.Dialled);
        Assert.Equal(0, forbidden.Connections);
        Assert.Equal(0, allowed.Connections);
    }

    [Fact]
    public async Task PlainHttp_Rebinding_ANewUpstreamConnectionLooksUpAgainAndIsRefused()
    {
        await using var allowed = await OriginServer.StartAsync(IPAddress.Loopback);
        await using var forbidden = await OriginServer.StartAsync(IPAddress.Parse("127.0.0.2"));
        var network = new TestNetwork().MapChanging("rebind.example.com", n => [n == 1 ? IPAddress.Loopback : IPAddress.Parse("127.0.0.2")]);
        // No DNS cache: the second dial looks the name up again, as every dial does once an answer's Dns.CacheTtl is over.
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(allowed.Port, forbidden.Port), customize: NoDnsCache), network);
        RobustnessLedger.Requests(2);
        RobustnessLedger.BadInputs();

        var first = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, Request("rebind.example.com", allowed.Port, tunnel: false));
        // Another port needs another upstream connection, so the name is looked up again: now it is private.
        var second = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, Request("rebind.example.com", forbidden.Port, tunnel: false));

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", first, StringComparison.Ordinal);
        AssertForbidden(second, Loopback);
        Assert.Equal(2, network.Lookups["rebind.example.com"]);
        Assert.Equal(0, forbidden.Connections);
    }

    [Fact]
    public async Task PlainHttp_OriginRedirectsToMetadata_RedirectIsPassedOnNotFollowed()
    {
        await using var origin = await RawOrigin.StartAsync(async (stream, token) =>
        {
            var buffer = new byte[4096];
            _ = await stream.ReadAsync(buffer, token);
            await stream.WriteAsync("HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), token);
        });
        var network = new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), network);
        RobustnessLedger.Requests();
        RobustnessLedger.BadInputs();

        var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, Request("www.example.com", origin.Port, tunnel: false));

        Assert.StartsWith("HTTP/1.1 302 Found\r\n", response, StringComparison.Ordinal);
        Assert.Contains("Location: http://169.254.169.254/latest/meta-data/\r\n", response, StringComparison.Ordinal);
        var dial = Assert.Single(network.Dialled);
        Assert.Equal(origin.Port, dial.Port);
        Assert.Empty(network.Refused);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Request_HostFieldNamesMetadata_TheRequestTargetAloneDecides(bool tunnel)
    {
        await using var origin = await OriginServer.StartAsync(IPAddress.Loopback);
        var network = new TestNetwork();
        var config = ProxyServer.Config(ProxyServer.AllowAll(origin.Port), customize: p => p["Policy"]!["RequireSniMatch"] = "Off");
        await using var proxy = await ProxyServer.StartAsync(config, network);
        RobustnessLedger.Requests();
        RobustnessLedger.BadInputs();

        var status = await FetchThroughAsync(proxy, "www.example.com", origin.Port, tunnel, hostField: "169.254.169.254");

        Assert.Equal("HTTP/1.1 200 OK", status);
        Assert.All(network.Dialled, e => Assert.Equal(origin.Port, e.Port));
        Assert.Empty(network.Refused);
        if (!tunnel)
        {
            Assert.Equal($"www.example.com:{origin.Port}", Assert.Single(origin.RequestHeaders).Host.ToString());
        }
    }

    private static string Request(string host, int port, bool tunnel, string? hostField = null) => tunnel
        ? $"CONNECT {host}:{port} HTTP/1.1\r\nHost: {hostField ?? $"{host}:{port}"}\r\n\r\n"
        : $"GET http://{host}:{port}/latest/meta-data/ HTTP/1.1\r\nHost: {hostField ?? $"{host}:{port}"}\r\nConnection: close\r\n\r\n";

    /// <summary>
    /// Sends the bypass attempt through a fresh proxy and asserts the refusal, <paramref name="expected"/> 403 naming
    /// the class or 400, and that nothing was dialled.
    /// </summary>
    private static async Task<string> AssertRefusedAsync(string host, int port, string addressClass, bool tunnel, TestNetwork? network = null, int expected = 403)
    {
        network ??= new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(port)), network);
        RobustnessLedger.Requests();
        RobustnessLedger.BadInputs();

        var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, Request(host, port, tunnel));

        AssertRefused(response, expected, addressClass, tunnel);
        Assert.Empty(network.Dialled);
        Assert.Empty(network.Refused);
        return response;
    }

    /// <summary>As <see cref="AssertRefusedAsync"/>, with counting origins on 127.0.0.2 and ::1 at the target port.</summary>
    private static async Task AssertLocalRefusedAsync(string host, string addressClass, bool tunnel, int expected)
    {
        await using var v4 = await OriginServer.StartAsync(IPAddress.Parse("127.0.0.2"));
        await using var v6 = await OriginServer.StartAsync(IPAddress.IPv6Loopback);
        var network = new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(v4.Port, v6.Port)), network);
        RobustnessLedger.Requests(2);
        RobustnessLedger.BadInputs(2);

        foreach (var port in new[] { v4.Port, v6.Port })
        {
            var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, Request(host, port, tunnel));
            AssertRefused(response, expected, addressClass, tunnel);
        }

        Assert.Equal(0, v4.Connections);
        Assert.Equal(0, v6.Connections);
        Assert.Empty(network.Dialled);
        Assert.Empty(network.Refused);
    }

    private static void AssertRefused(string response, int expected, string addressClass, bool tunnel)
    {
        if (expected == 403)
        {
            AssertForbidden(response, addressClass);
            return;
        }

        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", response, StringComparison.Ordinal);
        if (tunnel)
        {
            Assert.Contains("X-Proxy-Error: ERR_INVALID_REQUEST\r\n", response, StringComparison.Ordinal);
            Assert.Contains("the CONNECT target must be host:port", response, StringComparison.Ordinal);
        }
    }

    /// <summary>Asserts a 403 ERR_DESTINATION_PRIVATE naming <paramref name="addressClass"/> (alternatives separated by '|').</summary>
    private static void AssertForbidden(string response, string addressClass)
    {
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", response, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_DESTINATION_PRIVATE\r\n", response, StringComparison.Ordinal);
        Assert.True(addressClass.Split('|').Any(c => response.Contains($"({c})", StringComparison.Ordinal)),
            $"the refusal does not name the class {addressClass}:\n{response}");
    }

    /// <summary>
    /// GETs / from an OriginServer at <paramref name="host"/>:<paramref name="port"/>, directly or through a tunnel,
    /// and returns the origin's status line.
    /// </summary>
    private static async Task<string> FetchThroughAsync(ProxyServer proxy, string host, int port, bool tunnel, string? hostField = null)
    {
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        if (tunnel)
        {
            await raw.SendAsync(Request(host, port, tunnel: true, hostField));
            Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
            await raw.SendAsync($"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
        }
        else
        {
            await raw.SendAsync(Request(host, port, tunnel: false, hostField));
        }

        var response = Encoding.ASCII.GetString(await raw.ReadToEndAsync());
        return response[..response.IndexOf("\r\n", StringComparison.Ordinal)];
    }

    private static void NoDnsCache(System.Text.Json.Nodes.JsonObject proxy) =>
        proxy["Dns"]!["CacheTtl"] = "00:00:00";
}
