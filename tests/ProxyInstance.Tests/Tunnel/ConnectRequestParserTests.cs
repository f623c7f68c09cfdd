using System.Buffers;
using System.Text;
using EgressLab.ProxyInstance.Tunnel;

namespace EgressLab.ProxyInstance.Tests.Tunnel;

public class ConnectRequestParserTests
{
    private const int DefaultMaxHeadBytes = 32 * 1024;

    // Input, host, port, bracketed IPv6, raw authority, version, Proxy-Authorization, User-Agent.
    private static readonly (string Input, string Host, int Port, bool IPv6, string Raw, string Version, string? Auth, string? Agent)[] ValidCases =
    [
        ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", "example.com", 443, false, "example.com:443", "1.1", null, null),
        ("CONNECT example.com:443 HTTP/1.0\r\n\r\n", "example.com", 443, false, "example.com:443", "1.0", null, null),
        ("CONNECT Example.COM:8443 HTTP/1.1\r\n\r\n", "Example.COM", 8443, false, "Example.COM:8443", "1.1", null, null),
        ("CONNECT example.com.:443 HTTP/1.1\r\n\r\n", "example.com.", 443, false, "example.com.:443", "1.1", null, null),
        ("CONNECT s3.eu-west-1.amazonaws.com:443 HTTP/1.1\r\n\r\n", "s3.eu-west-1.amazonaws.com", 443, false, "s3.eu-west-1.amazonaws.com:443", "1.1", null, null),
        ("CONNECT _srv.a-b.example.com:1 HTTP/1.1\r\n\r\n", "_srv.a-b.example.com", 1, false, "_srv.a-b.example.com:1", "1.1", null, null),
        ("CONNECT localhost:65535 HTTP/1.1\r\n\r\n", "localhost", 65535, false, "localhost:65535", "1.1", null, null),
        ("CONNECT 1password.example:00443 HTTP/1.1\r\n\r\n", "1password.example", 443, false, "1password.example:00443", "1.1", null, null),
        ("CONNECT 192.0.2.10:443 HTTP/1.1\r\n\r\n", "192.0.2.10", 443, false, "192.0.2.10:443", "1.1", null, null),
        ("CONNECT 0.0.0.0:443 HTTP/1.1\r\n\r\n", "0.0.0.0", 443, false, "0.0.0.0:443", "1.1", null, null),
        ("CONNECT 255.255.255.255:443 HTTP/1.1\r\n\r\n", "255.255.255.255", 443, false, "255.255.255.255:443", "1.1", null, null),
        ("CONNECT [::1]:443 HTTP/1.1\r\n\r\n", "::1", 443, true, "[::1]:443", "1.1", null, null),
        ("CONNECT [2001:DB8::a:1]:8443 HTTP/1.1\r\n\r\n", "2001:DB8::a:1", 8443, true, "[2001:DB8::a:1]:8443", "1.1", null, null),
        ("CONNECT [::ffff:192.0.2.1]:443 HTTP/1.1\r\n\r\n", "::ffff:192.0.2.1", 443, true, "[::ffff:192.0.2.1]:443", "1.1", null, null),
        (
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: curl/8.5.0\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\nProxy-Connection: Keep-Alive\r\n\r\n",
            "example.com", 443, false, "example.com:443", "1.1", "Basic dXNlcjpwYXNz", "curl/8.5.0"
        ),
        ("CONNECT example.com:443 HTTP/1.1\r\nproxy-authorization:Basic abc=\r\nUSER-AGENT:\t Mozilla/5.0 (X11; Linux)  \t\r\n\r\n", "example.com", 443, false, "example.com:443", "1.1", "Basic abc=", "Mozilla/5.0 (X11; Linux)"),
        ("CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization:\r\n\r\n", "example.com", 443, false, "example.com:443", "1.1", "", null),
        ("CONNECT example.com:443 HTTP/1.1\r\nUser-Agent: caf\u00e9\tbar\r\n\r\n", "example.com", 443, false, "example.com:443", "1.1", null, "caf\u00e9\tbar"),
        ("CONNECT example.com:443 HTTP/1.1\r\nContent-Length: 0\r\ncontent-length:0\r\n\r\n", "example.com", 443, false, "example.com:443", "1.1", null, null),
        ("CONNECT example.com:443 HTTP/1.1\r\nX-Empty:\r\nX-Odd!#$%&'*+-.^_`|~: \"quoted\" \u00ff\r\n\r\n", "example.com", 443, false, "example.com:443", "1.1", null, null),
    ];

    private static readonly string LongLabel = new('a', 64);
    private static readonly string LongName = string.Join('.', Enumerable.Repeat(new string('a', 63), 4)); // 255 characters

    // Authorities that must be rejected as InvalidAuthority when written in an otherwise valid request line.
    private static readonly string[] InvalidAuthorityCases =
    [
        "example.com", "example.com:", ":443", "example.com:0", "example.com:00000", "example.com:65536", "example.com:99999",
        "example.com:443443", "example.com:+443", "example.com:-443", "example.com:44a", "example.com:443:443",
        "::1:443", "::1", "fe80::1:443", "2001:db8::1:443",
        "[::1]", "[::1]:", "[::1]443", "[::1:443", "::1]:443", "[]:443", "[::1]]:443", "[[::1]:443", "[::1%eth0]:443", "[fe80::1%25eth0]:443",
        "[127.0.0.1]:443", "[v1.fe]:443", "[::g]:443", "[1:2:3:4:5:6:7:8:9]:443", "[1::2::3]:443", "[example.com]:443",
        "user@example.com:443", "user:pass@example.com:443", "@example.com:443",
        "http://example.com:443", "example.com:443/", "example.com/x:443", "example.com:443?x", "example.com:443#x",
        "exa\0mple.com:443", "exa\u0001mple.com:443", "exa\u007fmple.com:443", "exa\tmple.com:443", "exa\rmple.com:443",
        "exa%2emple.com:443", "ex\u00e4mple.com:443", "xn--bcher-kva.example\u00ff:443", "example,com:443", "exa*mple.com:443",
        ".example.com:443", "example..com:443", "example.com..:443", ".:443", "..:443",
        LongLabel + ".example:443", LongName + ":443",
    ];

    // Whole heads and the error they must produce.
    private static readonly (string Input, ConnectParseError Error)[] InvalidHeadCases =
    [
        // Method.
        ("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", ConnectParseError.NotConnect),
        ("connect example.com:443 HTTP/1.1\r\n\r\n", ConnectParseError.NotConnect),
        ("CONNECTX example.com:443 HTTP/1.1\r\n\r\n", ConnectParseError.NotConnect),
        ("GET\r\n\r\n", ConnectParseError.NotConnect),
        ("\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("\r\nCONNECT example.com:443 HTTP/1.1\r\n\r\n", ConnectParseError.MalformedRequestLine),
        (" CONNECT example.com:443 HTTP/1.1\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT\texample.com:443 HTTP/1.1\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("\u0016\u0003\u0001\u0002\u0000\u0001\r\n\r\n", ConnectParseError.MalformedRequestLine),

        // Request line structure.
        ("CONNECT\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT \r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443 \r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT  example.com:443 HTTP/1.1\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443  HTTP/1.1\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443 HTTP/1.1 \r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443\tHTTP/1.1\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT exa mple.com:443 HTTP/1.1\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443 HTTP/1.1\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443 HTTP/1.1\r\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443 HTTP/1.1\nHost: x\n\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443 HTTP/1.1\u0000\r\n\r\n", ConnectParseError.MalformedRequestLine),

        // Version.
        ("CONNECT example.com:443 HTTP/2.0\r\n\r\n", ConnectParseError.UnsupportedVersion),
        ("CONNECT example.com:443 HTTP/1.2\r\n\r\n", ConnectParseError.UnsupportedVersion),
        ("CONNECT example.com:443 HTTP/0.9\r\n\r\n", ConnectParseError.UnsupportedVersion),
        ("CONNECT example.com:443 HTTP/3.0\r\n\r\n", ConnectParseError.UnsupportedVersion),
        ("CONNECT example.com:443 http/1.1\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443 HTTP/1.10\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443 HTTP/1\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443 HTTP/2\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443 HTTP/1.x\r\n\r\n", ConnectParseError.MalformedRequestLine),
        ("CONNECT example.com:443 HTTPS/1.1\r\n\r\n", ConnectParseError.MalformedRequestLine),

        // Header fields.
        ("CONNECT example.com:443 HTTP/1.1\r\nHost : example.com\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nHost\t: example.com\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\n Host: example.com\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\n\tHost: example.com\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nUser-Agent: a\r\n b\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nUser-Agent: a\r\n\tb\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\nUser-Agent: a\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\n\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nHost: exa\rmple.com\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nX-A: b\0c\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nX-A: b\u0001\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nX-A: b\u007f\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nX-A: b\u001b[0m\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nX-A b\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\n: b\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nX A: b\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nX(A): b\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nX\u00e4: b\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nX\0: b\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: Basic a\r\nProxy-Authorization: Basic b\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: Basic a\r\nproxy-AUTHORIZATION: Basic a\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nUser-Agent: a\r\nUser-Agent: b\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nhost: example.net:443\r\n\r\n", ConnectParseError.InvalidHeader),

        // No content on a CONNECT (RFC 9110 §9.3.6).
        ("CONNECT example.com:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nContent-Length: 00\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nContent-Length: 0, 0\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nContent-Length: -0\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nContent-Length:\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\ntransfer-encoding: identity\r\n\r\n", ConnectParseError.InvalidHeader),
        ("CONNECT example.com:443 HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", ConnectParseError.InvalidHeader),

        // The first error wins: the request line is judged before the fields.
        ("CONNECT example.com:0 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", ConnectParseError.InvalidAuthority),
        ("CONNECT example.com:443 HTTP/1.1\r\nHost : a\r\nTransfer-Encoding: chunked\r\n\r\n", ConnectParseError.InvalidHeader),
    ];

    public static TheoryData<string, string, int, bool, string, string, string?, string?> ValidHeads
    {
        get
        {
            var data = new TheoryData<string, string, int, bool, string, string, string?, string?>();
            foreach (var c in ValidCases)
            {
                data.Add(c.Input, c.Host, c.Port, c.IPv6, c.Raw, c.Version, c.Auth, c.Agent);
            }

            return data;
        }
    }

    public static TheoryData<string> InvalidAuthorities => new(InvalidAuthorityCases);

    // Enums travel as names: the test class is public and the parser's types are internal.
    public static TheoryData<string, string> InvalidHeads
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var c in InvalidHeadCases)
            {
                data.Add(c.Input, c.Error.ToString());
            }

            return data;
        }
    }

    public static TheoryData<string> AllHeads
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var c in ValidCases)
            {
                data.Add(c.Input);
            }

            foreach (var c in InvalidHeadCases)
            {
                data.Add(c.Input);
            }

            foreach (string authority in InvalidAuthorityCases)
            {
                data.Add(WithAuthority(authority));
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(ValidHeads))]
    public void TryParse_ValidHead_ReturnsRequest(string input, string host, int port, bool ipv6, string raw, string version, string? auth, string? agent)
    {
        byte[] bytes = Bytes(input);

        Outcome outcome = Parse(new ReadOnlySequence<byte>(bytes));

        Assert.Equal(ConnectParseStatus.Complete, outcome.Status);
        Assert.Equal(host, outcome.Host);
        Assert.Equal(port, outcome.Port);
        Assert.Equal(ipv6, outcome.IPv6);
        Assert.Equal(raw, outcome.Raw);
        Assert.Equal(Version.Parse(version), outcome.Version);
        Assert.Equal(auth, outcome.ProxyAuthorization);
        Assert.Equal(agent, outcome.UserAgent);
        Assert.Equal(bytes.Length, outcome.Consumed);
    }

    /// <summary>
    /// Numeric hosts are syntax to the parser; whether each is an address, and which, is EgressTarget's to say, as
    /// on the plain-HTTP path (null: neither a name nor an address, which the tunnel refuses with 400).
    /// </summary>
    [Theory]
    [InlineData("127.1:443", "127.0.0.1")]
    [InlineData("127.0.1:443", "127.0.0.1")]
    [InlineData("2130706433:443", "127.0.0.1")]
    [InlineData("0x7f.0.0.1:443", "127.0.0.1")]
    [InlineData("0x7f000001:443", "127.0.0.1")]
    [InlineData("0X7F000001:443", "127.0.0.1")]
    [InlineData("010.0.0.1:443", "8.0.0.1")]
    [InlineData("127.0.0.01:443", "127.0.0.1")]
    [InlineData("1.2.3.4.:443", "1.2.3.4")]
    [InlineData("256.0.0.1:443", null)]
    [InlineData("1.2.3.4.5:443", null)]
    [InlineData("1.2.3.1000:443", null)]
    [InlineData("example.123:443", null)]
    [InlineData("example.0x1f:443", null)]
    public void TryParse_NumericHost_IsSyntaxAndEgressTargetDecides(string authority, string? address)
    {
        Outcome outcome = Parse(new ReadOnlySequence<byte>(Bytes(WithAuthority(authority))));

        Assert.Equal(ConnectParseStatus.Complete, outcome.Status);
        var valid = EgressLab.ProxyInstance.Targets.EgressTarget.TryCreate(outcome.Host!, outcome.Port, out var target);
        Assert.Equal(address is not null, valid);
        if (address is not null)
        {
            Assert.Equal(address, target.Host);
        }
    }

    [Theory]
    [MemberData(nameof(InvalidAuthorities))]
    public void TryParse_InvalidAuthority_ReturnsInvalidAuthority(string authority)
    {
        Outcome outcome = Parse(new ReadOnlySequence<byte>(Bytes(WithAuthority(authority))));

        Assert.Equal(ConnectParseStatus.Error, outcome.Status);
        Assert.Equal(ConnectParseError.InvalidAuthority, outcome.Error);
    }

    [Theory]
    [MemberData(nameof(InvalidHeads))]
    public void TryParse_InvalidHead_ReturnsError(string input, string expected)
    {
        Outcome outcome = Parse(new ReadOnlySequence<byte>(Bytes(input)));

        Assert.Equal(ConnectParseStatus.Error, outcome.Status);
        Assert.Equal(Enum.Parse<ConnectParseError>(expected), outcome.Error);
    }

    [Theory]
    [MemberData(nameof(AllHeads))]
    public void TryParse_SplitIntoTwoSegmentsAtEveryByte_SameResult(string input)
    {
        byte[] bytes = Bytes(input);
        Outcome expected = Parse(new ReadOnlySequence<byte>(bytes));

        for (int cut = 1; cut < bytes.Length; cut++)
        {
            Assert.Equal(expected, Parse(TunnelParserTestSequences.SplitAt(bytes, cut)));
        }

        Assert.Equal(expected, Parse(TunnelParserTestSequences.Chunked(bytes, 1, emptySegmentsBetween: true)));
    }

    [Theory]
    [MemberData(nameof(AllHeads))]
    public void TryParse_ArrivingOneByteAtATime_SameResultAsWhole(string input)
    {
        byte[] bytes = Bytes(input);
        Outcome expected = Parse(new ReadOnlySequence<byte>(bytes));

        // Like a connection loop: parse what has arrived, read more while Incomplete. Every proper prefix of a valid
        // head is Incomplete; an invalid one may be rejected early, but only with the error the whole head gets.
        Outcome? early = null;
        for (int length = 0; length < bytes.Length && early is null; length++)
        {
            Outcome partial = Parse(TunnelParserTestSequences.Chunked(bytes.AsSpan(0, length), 1));
            if (partial.Status != ConnectParseStatus.Incomplete)
            {
                early = partial;
            }
        }

        if (early is { } result)
        {
            Assert.Equal(ConnectParseStatus.Error, expected.Status);
            Assert.Equal(expected, result);
        }
        else
        {
            Assert.Equal(expected, Parse(TunnelParserTestSequences.Chunked(bytes, 1)));
        }
    }

    [Fact]
    public void TryParse_ValidHeadPrefixes_AreIncompleteAndConsumeNothing()
    {
        byte[] bytes = Bytes("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: x\r\n\r\n");

        for (int length = 0; length < bytes.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, length);
            ConnectParseStatus status = ConnectRequestParser.TryParse(buffer, DefaultMaxHeadBytes, out ConnectRequest? request, out ConnectParseError error, out SequencePosition consumed, out SequencePosition examined);

            Assert.Equal(ConnectParseStatus.Incomplete, status);
            Assert.Null(request);
            Assert.Equal(ConnectParseError.None, error);
            Assert.Equal(buffer.Start, consumed);
            Assert.Equal(buffer.End, examined);
        }
    }

    [Theory]
    [InlineData("\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003")]
    [InlineData("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")]
    [InlineData("\r\n\r\n")]
    [InlineData("x")]
    public void TryParse_PipelinedPayloadAfterHead_ConsumedStopsAtPayload(string payload)
    {
        byte[] head = Bytes("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        byte[] bytes = [.. head, .. Bytes(payload)];

        foreach (ReadOnlySequence<byte> buffer in new[]
        {
            new ReadOnlySequence<byte>(bytes),
            TunnelParserTestSequences.Chunked(bytes, 1),
            TunnelParserTestSequences.Chunked(bytes, 7),
            TunnelParserTestSequences.SplitAt(bytes, head.Length),
            TunnelParserTestSequences.SplitAt(bytes, head.Length - 1),
            TunnelParserTestSequences.SplitAt(bytes, head.Length + 1),
        })
        {
            ConnectParseStatus status = ConnectRequestParser.TryParse(buffer, DefaultMaxHeadBytes, out ConnectRequest? request, out _, out SequencePosition consumed, out SequencePosition examined);

            Assert.Equal(ConnectParseStatus.Complete, status);
            Assert.Equal("example.com", request!.Host);
            Assert.Equal(head.Length, buffer.Slice(0, consumed).Length);
            Assert.Equal(consumed, examined);
            Assert.Equal(Bytes(payload), buffer.Slice(consumed).ToArray());
        }
    }

    [Fact]
    public void TryParse_LongFieldsAcrossSegments_ValuesIntact()
    {
        // Lines of growing length, each spanning many segments.
        string agent = new('u', 300);
        string credentials = "Basic " + new string('c', 2000);
        byte[] bytes = Bytes($"CONNECT example.com:443 HTTP/1.1\r\nX-A: {new string('a', 100)}\r\nUser-Agent: {agent}\r\nProxy-Authorization: {credentials}\r\n\r\n");

        foreach (int segmentSize in new[] { 1, 13, 64 })
        {
            Outcome outcome = Parse(TunnelParserTestSequences.Chunked(bytes, segmentSize));

            Assert.Equal(ConnectParseStatus.Complete, outcome.Status);
            Assert.Equal(agent, outcome.UserAgent);
            Assert.Equal(credentials, outcome.ProxyAuthorization);
        }
    }

    [Fact]
    public void TryParse_HeadExactlyAtLimit_Completes()
    {
        byte[] bytes = Bytes("CONNECT example.com:443 HTTP/1.1\r\nUser-Agent: x\r\n\r\n");

        Outcome atLimit = Parse(new ReadOnlySequence<byte>(bytes), bytes.Length);
        Outcome belowLimit = Parse(new ReadOnlySequence<byte>(bytes), bytes.Length - 1);

        Assert.Equal(ConnectParseStatus.Complete, atLimit.Status);
        Assert.Equal(ConnectParseError.HeadTooLarge, belowLimit.Error);
    }

    [Fact]
    public void TryParse_CompleteHeadFollowedByMoreThanLimit_Completes()
    {
        byte[] head = Bytes("CONNECT example.com:443 HTTP/1.1\r\n\r\n");
        byte[] bytes = [.. head, .. new byte[1000]];

        Outcome outcome = Parse(new ReadOnlySequence<byte>(bytes), 64);

        Assert.Equal(ConnectParseStatus.Complete, outcome.Status);
        Assert.Equal(head.Length, outcome.Consumed);
    }

    [Theory]
    [InlineData(63, "Incomplete", "None")]
    [InlineData(64, "Error", "HeadTooLarge")]
    [InlineData(65, "Error", "HeadTooLarge")]
    [InlineData(5000, "Error", "HeadTooLarge")]
    public void TryParse_UnfinishedHeadAgainstLimit_IncompleteUntilLimitThenHeadTooLarge(int length, string status, string error)
    {
        string head = "CONNECT example.com:443 HTTP/1.1\r\n" + string.Concat(Enumerable.Repeat("X-Padding: abcdefghijklmnopqrstuvwxyz\r\n", 200));
        byte[] bytes = Bytes(head)[..length];

        Outcome outcome = Parse(new ReadOnlySequence<byte>(bytes), 64);

        Assert.Equal(Enum.Parse<ConnectParseStatus>(status), outcome.Status);
        Assert.Equal(Enum.Parse<ConnectParseError>(error), outcome.Error);
    }

    [Fact]
    public void TryParse_ManyFieldsBeyondLimit_HeadTooLarge()
    {
        string head = "CONNECT example.com:443 HTTP/1.1\r\n" + string.Concat(Enumerable.Repeat("X-Padding: abcdefghijklmnopqrstuvwxyz\r\n", 2000)) + "\r\n";
        byte[] bytes = Bytes(head);

        Assert.Equal(ConnectParseError.HeadTooLarge, Parse(new ReadOnlySequence<byte>(bytes), DefaultMaxHeadBytes).Error);
        Assert.Equal(ConnectParseError.HeadTooLarge, Parse(TunnelParserTestSequences.Chunked(bytes, 4096), DefaultMaxHeadBytes).Error);
        Assert.Equal(ConnectParseStatus.Complete, Parse(new ReadOnlySequence<byte>(bytes), bytes.Length).Status);
    }

    [Fact]
    public void TryParse_RequestLineOfMaximumLength_IsNotTooLong()
    {
        // 8192 bytes with the CRLF: within the limit, so the (overlong) host is what gets rejected.
        byte[] bytes = Bytes(RequestLineOfLength(ConnectRequestParser.MaxRequestLineBytes) + "\r\n");

        Assert.Equal(ConnectParseError.InvalidAuthority, Parse(new ReadOnlySequence<byte>(bytes)).Error);
    }

    [Fact]
    public void TryParse_RequestLineOneByteTooLong_RequestLineTooLong()
    {
        byte[] bytes = Bytes(RequestLineOfLength(ConnectRequestParser.MaxRequestLineBytes + 1) + "\r\n");

        Assert.Equal(ConnectParseError.RequestLineTooLong, Parse(new ReadOnlySequence<byte>(bytes)).Error);
        Assert.Equal(ConnectParseError.RequestLineTooLong, Parse(TunnelParserTestSequences.Chunked(bytes, 1000)).Error);
    }

    [Theory]
    [InlineData(ConnectRequestParser.MaxRequestLineBytes - 1, "Incomplete", "None")]
    [InlineData(ConnectRequestParser.MaxRequestLineBytes, "Error", "RequestLineTooLong")]
    [InlineData(ConnectRequestParser.MaxRequestLineBytes * 2, "Error", "RequestLineTooLong")]
    public void TryParse_UnterminatedRequestLine_TooLongOnceItCannotFit(int length, string status, string error)
    {
        byte[] bytes = Bytes("CONNECT " + new string('a', length - 8));

        Outcome outcome = Parse(new ReadOnlySequence<byte>(bytes));

        Assert.Equal(Enum.Parse<ConnectParseStatus>(status), outcome.Status);
        Assert.Equal(Enum.Parse<ConnectParseError>(error), outcome.Error);
    }

    [Fact]
    public void TryParse_LongRequestLineWithSmallerHeadLimit_HeadTooLarge()
    {
        byte[] bytes = Bytes("CONNECT " + new string('a', 10_000));

        Assert.Equal(ConnectParseError.HeadTooLarge, Parse(new ReadOnlySequence<byte>(bytes), 4096).Error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void TryParse_NonPositiveLimit_Throws(int maxHeadBytes)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ConnectRequestParser.TryParse(
            new ReadOnlySequence<byte>(Bytes("CONNECT example.com:443 HTTP/1.1\r\n\r\n")), maxHeadBytes, out _, out _, out _, out _));
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("C", null)]
    [InlineData("CONNEC", null)]
    [InlineData("CONNECT", null)]
    [InlineData("CONNECT ", true)]
    [InlineData("CONNECT example.com:443 HTTP/1.1\r\n", true)]
    [InlineData("CONNECT garbage", true)]
    [InlineData("G", false)]
    [InlineData("GET / HTTP/1.1\r\n", false)]
    [InlineData("connect ", false)]
    [InlineData("CONNECTX", false)]
    [InlineData("CONNECT\t", false)]
    [InlineData("CONN", null)]
    [InlineData("CONX", false)]
    [InlineData(" CONNECT ", false)]
    [InlineData("\u0016\u0003\u0001", false)]
    public void StartsWithConnect_Prefix_ReturnsExpected(string input, bool? expected)
    {
        byte[] bytes = Bytes(input);

        Assert.Equal(expected, ConnectRequestParser.StartsWithConnect(new ReadOnlySequence<byte>(bytes)));
        Assert.Equal(expected, ConnectRequestParser.StartsWithConnect(TunnelParserTestSequences.Chunked(bytes, 1)));
        Assert.Equal(expected, ConnectRequestParser.StartsWithConnect(TunnelParserTestSequences.Chunked(bytes, 3, emptySegmentsBetween: true)));
    }

    private static string WithAuthority(string authority) => $"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n";

    // A request line (without CRLF) of exactly `length - 2` bytes, so that with its CRLF it is `length` bytes long.
    private static string RequestLineOfLength(int length)
    {
        const string Prefix = "CONNECT ";
        const string Suffix = ".example:443 HTTP/1.1";
        return Prefix + new string('a', length - 2 - Prefix.Length - Suffix.Length) + Suffix;
    }

    // Latin-1 maps each char of the test strings to exactly one byte, so tests can write any byte value.
    private static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);

    private static Outcome Parse(in ReadOnlySequence<byte> buffer, int maxHeadBytes = DefaultMaxHeadBytes)
    {
        ConnectParseStatus status = ConnectRequestParser.TryParse(buffer, maxHeadBytes, out ConnectRequest? request, out ConnectParseError error, out SequencePosition consumed, out SequencePosition examined);
        long consumedBytes = buffer.Slice(0, consumed).Length;
        long examinedBytes = buffer.Slice(0, examined).Length;

        // Contract invariants that hold for every result.
        Assert.True(examinedBytes >= consumedBytes);
        switch (status)
        {
            case ConnectParseStatus.Complete:
                Assert.NotNull(request);
                Assert.Equal(ConnectParseError.None, error);
                Assert.Equal(consumedBytes, examinedBytes);
                break;
            case ConnectParseStatus.Incomplete:
                Assert.Null(request);
                Assert.Equal(ConnectParseError.None, error);
                Assert.Equal(0, consumedBytes);
                Assert.Equal(buffer.Length, examinedBytes);
                break;
            default:
                Assert.Null(request);
                Assert.NotEqual(ConnectParseError.None, error);
                Assert.Equal(0, consumedBytes);
                break;
        }

        return new Outcome(status, error, request?.Host, request?.Port ?? 0, request?.HostIsBracketedIPv6 ?? false, request?.RawAuthority, request?.Version, request?.ProxyAuthorization, request?.UserAgent, consumedBytes);
    }

    private readonly record struct Outcome(
        ConnectParseStatus Status,
        ConnectParseError Error,
        string? Host,
        int Port,
        bool IPv6,
        string? Raw,
        Version? Version,
        string? ProxyAuthorization,
        string? UserAgent,
        long Consumed);
}
