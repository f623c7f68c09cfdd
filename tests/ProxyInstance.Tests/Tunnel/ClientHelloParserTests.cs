using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using EgressLab.ProxyInstance.Tunnel;

namespace EgressLab.ProxyInstance.Tests.Tunnel;

public class ClientHelloParserTests
{
    private const int DefaultMaxBytes = 64 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("www.example.com")]
    [InlineData("s3.eu-west-1.amazonaws.com")]
    [InlineData("a-b_c.example")]
    public async Task TryParse_RealClientHello_ReturnsServerName(string targetHost)
    {
        byte[] hello = await CaptureClientHelloAsync(targetHost, TestContext.Current.CancellationToken);

        ClientHelloParseStatus status = ClientHelloParser.TryParse(new ReadOnlySequence<byte>(hello), DefaultMaxBytes, out string? serverName);

        Assert.Equal(ClientHelloParseStatus.Parsed, status);
        Assert.Equal(targetHost, serverName);
    }

    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task TryParse_RealClientHelloForIPAddress_ParsedWithoutServerName(string targetHost)
    {
        // SslStream sends no server_name for an IP address (RFC 6066 §3 forbids literal addresses).
        byte[] hello = await CaptureClientHelloAsync(targetHost, TestContext.Current.CancellationToken);

        ClientHelloParseStatus status = ClientHelloParser.TryParse(new ReadOnlySequence<byte>(hello), DefaultMaxBytes, out string? serverName);

        Assert.Equal(ClientHelloParseStatus.Parsed, status);
        Assert.Null(serverName);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(7, true)]
    [InlineData(64, false)]
    [InlineData(4096, false)]
    public async Task TryParse_RealClientHelloInManySegments_ReturnsServerName(int segmentSize, bool emptySegments)
    {
        byte[] hello = await CaptureClientHelloAsync("www.example.com", TestContext.Current.CancellationToken);

        ClientHelloParseStatus status = ClientHelloParser.TryParse(TunnelParserTestSequences.Chunked(hello, segmentSize, emptySegments), DefaultMaxBytes, out string? serverName);

        Assert.Equal(ClientHelloParseStatus.Parsed, status);
        Assert.Equal("www.example.com", serverName);
    }

    [Fact]
    public async Task TryParse_RealClientHelloReframedIntoTwoRecordsAtEveryCut_ReturnsServerName()
    {
        byte[] hello = await CaptureClientHelloAsync("www.example.com", TestContext.Current.CancellationToken);
        byte[] message = HandshakeMessageOf(hello);

        // Every cut, including inside the 4-byte handshake header; in one segment and in one segment per record.
        for (int cut = 1; cut < message.Length; cut++)
        {
            byte[] twoRecords = Records(message, cut);

            Assert.Equal(ClientHelloParseStatus.Parsed, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(twoRecords), DefaultMaxBytes, out string? serverName));
            Assert.Equal("www.example.com", serverName);

            Assert.Equal(ClientHelloParseStatus.Parsed, ClientHelloParser.TryParse(TunnelParserTestSequences.SplitAt(twoRecords, 5 + cut), DefaultMaxBytes, out serverName));
            Assert.Equal("www.example.com", serverName);
        }
    }

    [Fact]
    public async Task TryParse_RealClientHelloInOneBytePerRecord_ReturnsServerName()
    {
        byte[] hello = await CaptureClientHelloAsync("www.example.com", TestContext.Current.CancellationToken);
        byte[] message = HandshakeMessageOf(hello);
        byte[] records = Records(message, [.. Enumerable.Range(1, message.Length - 1)]);

        Assert.Equal(ClientHelloParseStatus.Parsed, ClientHelloParser.TryParse(TunnelParserTestSequences.Chunked(records, 3), records.Length, out string? serverName));
        Assert.Equal("www.example.com", serverName);
    }

    [Fact]
    public async Task TryParse_RealClientHelloTruncatedAtEveryLength_Incomplete()
    {
        byte[] hello = await CaptureClientHelloAsync("www.example.com", TestContext.Current.CancellationToken);
        byte[] message = HandshakeMessageOf(hello);
        byte[] threeRecords = Records(message, 3, message.Length / 2);

        foreach (byte[] input in new[] { hello, threeRecords })
        {
            for (int length = 0; length < input.Length; length++)
            {
                Assert.Equal(ClientHelloParseStatus.Incomplete, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(input, 0, length), DefaultMaxBytes, out string? serverName));
                Assert.Null(serverName);
                Assert.Equal(ClientHelloParseStatus.Incomplete, ClientHelloParser.TryParse(TunnelParserTestSequences.Chunked(input.AsSpan(0, length), 5), DefaultMaxBytes, out _));
            }
        }
    }

    [Fact]
    public async Task TryParse_RealClientHelloFollowedByMoreData_ReturnsServerName()
    {
        // A client may send early data or a second flight after the hello; only the first message matters.
        byte[] hello = await CaptureClientHelloAsync("www.example.com", TestContext.Current.CancellationToken);
        byte[] input = [.. hello, 0x17, 0x03, 0x03, 0x00, 0x02, 0xAB, 0xCD];

        Assert.Equal(ClientHelloParseStatus.Parsed, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(input), DefaultMaxBytes, out string? serverName));
        Assert.Equal("www.example.com", serverName);
    }

    [Fact]
    public async Task TryParse_RealClientHelloCoalescedWithMoreHandshakeBytesInItsRecord_ReturnsServerName()
    {
        // RFC 8446 §5.1 lets a record carry several handshake messages; only the first one is read.
        byte[] hello = await CaptureClientHelloAsync("www.example.com", TestContext.Current.CancellationToken);
        byte[] coalesced = Records([.. HandshakeMessageOf(hello), 20, 0, 0, 0]);

        Assert.Equal(ClientHelloParseStatus.Parsed, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(coalesced), DefaultMaxBytes, out string? serverName));
        Assert.Equal("www.example.com", serverName);
    }

    [Fact]
    public async Task TryParse_WrongHandshakeType_Malformed()
    {
        byte[] hello = await CaptureClientHelloAsync("www.example.com", TestContext.Current.CancellationToken);
        hello[5] = 2; // server_hello

        Assert.Equal(ClientHelloParseStatus.Malformed, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(hello), DefaultMaxBytes, out string? serverName));
        Assert.Null(serverName);

        // Known as soon as the type byte has arrived.
        Assert.Equal(ClientHelloParseStatus.Malformed, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(hello, 0, 6), DefaultMaxBytes, out _));
    }

    [Fact]
    public async Task TryParse_MaxBytesAgainstRealClientHello_ParsedOnlyWhenItFits()
    {
        byte[] hello = await CaptureClientHelloAsync("www.example.com", TestContext.Current.CancellationToken);
        var buffer = new ReadOnlySequence<byte>(hello);

        Assert.Equal(ClientHelloParseStatus.Parsed, ClientHelloParser.TryParse(buffer, hello.Length, out _));
        Assert.Equal(ClientHelloParseStatus.Malformed, ClientHelloParser.TryParse(buffer, hello.Length - 1, out _));
        Assert.Equal(ClientHelloParseStatus.Malformed, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(hello, 0, 10), hello.Length - 1, out _));
    }

    [Theory]
    [InlineData(new byte[] { 0x47, 0x45, 0x54, 0x20, 0x2F })] // "GET /"
    [InlineData(new byte[] { 0x43 })] // "C"
    [InlineData(new byte[] { 0x80, 0x2E, 0x01, 0x03, 0x01 })] // SSLv2-compatible hello
    [InlineData(new byte[] { 0x17, 0x03, 0x03, 0x00, 0x10 })] // application_data
    [InlineData(new byte[] { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 })] // alert
    [InlineData(new byte[] { 0x16, 0x02, 0x00, 0x00, 0x10 })]
    [InlineData(new byte[] { 0x16, 0x00 })]
    [InlineData(new byte[] { 0x00, 0x00, 0x00 })]
    [InlineData(new byte[] { 0x05, 0x01, 0x00 })] // SOCKS5
    public void TryParse_NotATlsHandshakeRecord_NotTls(byte[] input)
    {
        Assert.Equal(ClientHelloParseStatus.NotTls, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(input), DefaultMaxBytes, out string? serverName));
        Assert.Null(serverName);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x16 })]
    [InlineData(new byte[] { 0x16, 0x03 })]
    [InlineData(new byte[] { 0x16, 0x03, 0x01, 0x02 })]
    [InlineData(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00 })]
    [InlineData(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 })]
    public void TryParse_TooFewBytes_Incomplete(byte[] input)
    {
        Assert.Equal(ClientHelloParseStatus.Incomplete, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(input), DefaultMaxBytes, out _));
    }

    public static TheoryData<string, string?> WellFormedHellos => new()
    {
        { "no extensions", null },
        { "extensions without server_name", null },
        { "server_name example.com", "example.com" },
        { "server_name mixed case", "WWW.Example.COM" },
        { "server_name with underscore", "_a.b-c.example" },
        { "server_name of 253 bytes", LongServerName(253) },
        { "server_name after unknown name type", "example.com" },
        { "server_name with only unknown name type", null },
        { "empty extensions block", null },
    };

    [Theory]
    [MemberData(nameof(WellFormedHellos))]
    public void TryParse_WellFormedSyntheticHello_Parsed(string scenario, string? expected)
    {
        byte[] body = scenario switch
        {
            "no extensions" => ClientHelloBody(extensions: null),
            "extensions without server_name" => ClientHelloBody(Concat(Extension(10, [0, 2, 0, 29]), Extension(43, [2, 3, 4]))),
            "server_name after unknown name type" => ClientHelloBody(Extension(0, ServerNameList((7, "ignored"u8.ToArray()), (0, Ascii(expected!))))),
            "server_name with only unknown name type" => ClientHelloBody(Extension(0, ServerNameList((7, "ignored"u8.ToArray())))),
            "empty extensions block" => ClientHelloBody([]),
            _ => ClientHelloBody(Concat(Extension(10, [0, 2, 0, 29]), Extension(0, ServerNameList((0, Ascii(expected!)))), Extension(43, [2, 3, 4]))),
        };

        byte[] records = Records(Handshake(1, body), []);

        Assert.Equal(ClientHelloParseStatus.Parsed, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(records), DefaultMaxBytes, out string? serverName));
        Assert.Equal(expected, serverName);
    }

    public static TheoryData<string> InvalidServerNames => new(
        "", "example.com\0", "example.com\0\0", "\0example.com", "exa mple.com", "example.com.", ".example.com", "example..com", ".",
        "ex\u00e4mple.com", "[::1]", "::1", "example.com:443", "user@example.com", "exa%2emple.com", "example.com/", "exa\tmple.com",
        LongServerName(254), new string('a', 64) + ".example");

    [Theory]
    [MemberData(nameof(InvalidServerNames))]
    public void TryParse_InvalidServerName_Malformed(string name)
    {
        byte[] records = Records(Handshake(1, ClientHelloBody(Extension(0, ServerNameList((0, Latin1(name)))))), []);

        Assert.Equal(ClientHelloParseStatus.Malformed, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(records), DefaultMaxBytes, out string? serverName));
        Assert.Null(serverName);
    }

    public static TheoryData<string> MalformedHellos => new(
        "duplicate server_name extension",
        "two host_name entries",
        "empty server_name extension",
        "empty server_name list",
        "server_name list length too long",
        "server_name list length too short",
        "host_name length beyond list",
        "extension length beyond block",
        "extensions block length too long",
        "extensions block length too short",
        "trailing byte after extensions",
        "one byte where extensions length goes",
        "session id of 33 bytes",
        "odd cipher suites length",
        "empty cipher suites",
        "no compression methods",
        "legacy_version 0x0203",
        "body shorter than random",
        "empty body",
        "handshake length shorter than body",
        "second record is application_data",
        "second record version 0x0203",
        "empty record",
        "record longer than 2^14",
        "handshake longer than max bytes");

    [Theory]
    [MemberData(nameof(MalformedHellos))]
    public void TryParse_MalformedSyntheticHello_Malformed(string scenario)
    {
        byte[] sni = Extension(0, ServerNameList((0, "example.com"u8.ToArray())));
        byte[] records = scenario switch
        {
            "duplicate server_name extension" => Records(Handshake(1, ClientHelloBody(Concat(sni, Extension(0, ServerNameList((0, "example.net"u8.ToArray())))))), []),
            "two host_name entries" => Records(Handshake(1, ClientHelloBody(Extension(0, ServerNameList((0, "example.com"u8.ToArray()), (0, "example.net"u8.ToArray()))))), []),
            "empty server_name extension" => Records(Handshake(1, ClientHelloBody(Extension(0, []))), []),
            "empty server_name list" => Records(Handshake(1, ClientHelloBody(Extension(0, [0, 0]))), []),
            "server_name list length too long" => Records(Handshake(1, ClientHelloBody(Extension(0, [0, 15, 0, 0, 11, .. "example.com"u8]))), []),
            "server_name list length too short" => Records(Handshake(1, ClientHelloBody(Extension(0, [0, 13, 0, 0, 11, .. "example.com"u8]))), []),
            "host_name length beyond list" => Records(Handshake(1, ClientHelloBody(Extension(0, [0, 14, 0, 0, 12, .. "example.com"u8]))), []),
            "extension length beyond block" => Records(Handshake(1, ClientHelloBody([0, 0, 0, 10, 0, 0]) ), []),
            "extensions block length too long" => Records(Handshake(1, WithExtensionsLength(sni, sni.Length + 1)), []),
            "extensions block length too short" => Records(Handshake(1, WithExtensionsLength(sni, sni.Length - 1)), []),
            "trailing byte after extensions" => Records(Handshake(1, [.. ClientHelloBody(sni), 0]), []),
            "one byte where extensions length goes" => Records(Handshake(1, [.. ClientHelloBody(extensions: null), 0]), []),
            "session id of 33 bytes" => Records(Handshake(1, ClientHelloBody(sni, sessionIdLength: 33)), []),
            "odd cipher suites length" => Records(Handshake(1, ClientHelloBody(sni, cipherSuitesLength: 3)), []),
            "empty cipher suites" => Records(Handshake(1, ClientHelloBody(sni, cipherSuitesLength: 0)), []),
            "no compression methods" => Records(Handshake(1, ClientHelloBody(sni, compressionMethodsLength: 0)), []),
            "legacy_version 0x0203" => Records(Handshake(1, ClientHelloBody(sni, legacyVersion: 0x0203)), []),
            "body shorter than random" => Records(Handshake(1, [3, 3, .. new byte[20]]), []),
            "empty body" => Records(Handshake(1, []), []),
            "handshake length shorter than body" => Records(WithHandshakeLength(Handshake(1, ClientHelloBody(sni)), 40), []),
            "second record is application_data" => WithRecordByte(Records(Handshake(1, ClientHelloBody(sni)), 20), offsetInSecondRecord: 0, 0x17),
            "second record version 0x0203" => WithRecordByte(Records(Handshake(1, ClientHelloBody(sni)), 20), offsetInSecondRecord: 1, 0x02),
            "empty record" => [0x16, 0x03, 0x01, 0x00, 0x00, .. Records(Handshake(1, ClientHelloBody(sni)), [])],
            "record longer than 2^14" => [0x16, 0x03, 0x01, 0x40, 0x01, 1, 0, 0x40, 0x00, .. new byte[16 * 1024]],
            "handshake longer than max bytes" => [0x16, 0x03, 0x01, 0x00, 0x04, 1, 0x01, 0x00, 0x00],
            _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, null),
        };

        Assert.Equal(ClientHelloParseStatus.Malformed, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(records), DefaultMaxBytes, out string? serverName));
        Assert.Null(serverName);
        Assert.Equal(ClientHelloParseStatus.Malformed, ClientHelloParser.TryParse(TunnelParserTestSequences.Chunked(records, 2), DefaultMaxBytes, out _));
    }

    [Fact]
    public void TryParse_HandshakeSpanningRecordsThatExceedMaxBytes_Malformed()
    {
        // Each record fits, but the ClientHello needs more records than maxBytes allows: known before they arrive.
        byte[] message = Handshake(1, ClientHelloBody(Extension(0, ServerNameList((0, "example.com"u8.ToArray())))));
        byte[] records = Records(message, 10, 20, 30);
        int maxBytes = 5 + 10 + 5 + 10;

        Assert.Equal(ClientHelloParseStatus.Malformed, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(records, 0, maxBytes), maxBytes, out _));
        Assert.Equal(ClientHelloParseStatus.Parsed, ClientHelloParser.TryParse(new ReadOnlySequence<byte>(records), records.Length, out string? serverName));
        Assert.Equal("example.com", serverName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void TryParse_NonPositiveMaxBytes_Throws(int maxBytes)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClientHelloParser.TryParse(new ReadOnlySequence<byte>([0x16]), maxBytes, out _));
    }

    // Runs a real SslStream client handshake against a loopback listener that captures the records carrying the
    // ClientHello, then hangs up.
    internal static async Task<byte[]> CaptureClientHelloAsync(string targetHost, CancellationToken cancellationToken)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;

        using var client = new TcpClient(AddressFamily.InterNetwork);
        Task connect = client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).AsTask();
        using Socket server = await listener.AcceptSocketAsync(cancellationToken).AsTask().WaitAsync(Timeout, cancellationToken);
        await connect.WaitAsync(Timeout, cancellationToken);

        using var ssl = new SslStream(client.GetStream());
        Task handshake = ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = targetHost }, cancellationToken);

        byte[] hello;
        using (var stream = new NetworkStream(server, ownsSocket: false))
        {
            hello = await ReadHandshakeRecordsAsync(stream, cancellationToken);
        }

        server.Shutdown(SocketShutdown.Both);
        server.Close();

        Exception? failure = await Record.ExceptionAsync(() => handshake.WaitAsync(Timeout, cancellationToken));
        Assert.True(failure is IOException or AuthenticationException, $"Unexpected handshake outcome: {failure}");
        return hello;
    }

    // Reads whole TLS records until they carry one complete handshake message; independent of the parser under test.
    private static async Task<byte[]> ReadHandshakeRecordsAsync(Stream stream, CancellationToken cancellationToken)
    {
        var captured = new List<byte>();
        var payload = new List<byte>();
        byte[] header = new byte[5];
        while (payload.Count < 4 || payload.Count < 4 + ((payload[1] << 16) | (payload[2] << 8) | payload[3]))
        {
            await stream.ReadExactlyAsync(header, cancellationToken).AsTask().WaitAsync(Timeout, cancellationToken);
            Assert.Equal(0x16, header[0]);
            byte[] fragment = new byte[BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(3))];
            await stream.ReadExactlyAsync(fragment, cancellationToken).AsTask().WaitAsync(Timeout, cancellationToken);
            captured.AddRange(header);
            captured.AddRange(fragment);
            payload.AddRange(fragment);
        }

        Assert.Equal(1, payload[0]);
        return [.. captured];
    }

    // The handshake message carried by single-record input.
    private static byte[] HandshakeMessageOf(byte[] records)
    {
        int length = BinaryPrimitives.ReadUInt16BigEndian(records.AsSpan(3));
        Assert.Equal(records.Length, 5 + length);
        return records[5..];
    }

    // Frames a handshake message into handshake records, cutting the payload at the given offsets.
    private static byte[] Records(byte[] message, params int[] cuts)
    {
        var output = new List<byte>();
        int start = 0;
        foreach (int end in cuts.Append(message.Length))
        {
            int length = end - start;
            output.AddRange([0x16, 0x03, 0x01, (byte)(length >> 8), (byte)length]);
            output.AddRange(message[start..end]);
            start = end;
        }

        return [.. output];
    }

    private static byte[] WithRecordByte(byte[] records, int offsetInSecondRecord, byte value)
    {
        int secondRecord = 5 + BinaryPrimitives.ReadUInt16BigEndian(records.AsSpan(3));
        records[secondRecord + offsetInSecondRecord] = value;
        return records;
    }

    private static byte[] Handshake(byte type, byte[] body) =>
        [type, (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length, .. body];

    private static byte[] WithHandshakeLength(byte[] message, int length)
    {
        message[1] = (byte)(length >> 16);
        message[2] = (byte)(length >> 8);
        message[3] = (byte)length;
        return message;
    }

    // RFC 8446 §4.1.2 ClientHello; extensions null leaves the extensions field out altogether (TLS 1.2 allows it).
    private static byte[] ClientHelloBody(
        byte[]? extensions,
        int sessionIdLength = 32,
        int cipherSuitesLength = 4,
        int compressionMethodsLength = 1,
        ushort legacyVersion = 0x0303)
    {
        var body = new List<byte> { (byte)(legacyVersion >> 8), (byte)legacyVersion };
        body.AddRange(Enumerable.Repeat((byte)0x5A, 32));
        body.Add((byte)sessionIdLength);
        body.AddRange(Enumerable.Repeat((byte)0x11, sessionIdLength));
        body.AddRange([(byte)(cipherSuitesLength >> 8), (byte)cipherSuitesLength]);
        body.AddRange(Enumerable.Repeat((byte)0x13, cipherSuitesLength));
        body.Add((byte)compressionMethodsLength);
        body.AddRange(new byte[compressionMethodsLength]);
        if (extensions is not null)
        {
            body.AddRange([(byte)(extensions.Length >> 8), (byte)extensions.Length]);
            body.AddRange(extensions);
        }

        return [.. body];
    }

    private static byte[] WithExtensionsLength(byte[] extensions, int length)
    {
        byte[] body = ClientHelloBody(extensions);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(body.Length - extensions.Length - 2), (ushort)length);
        return body;
    }

    private static byte[] Extension(ushort type, byte[] data) =>
        [(byte)(type >> 8), (byte)type, (byte)(data.Length >> 8), (byte)data.Length, .. data];

    // RFC 6066 §3 ServerNameList.
    private static byte[] ServerNameList(params (byte Type, byte[] Name)[] entries)
    {
        var list = new List<byte>();
        foreach ((byte type, byte[] name) in entries)
        {
            list.AddRange([type, (byte)(name.Length >> 8), (byte)name.Length]);
            list.AddRange(name);
        }

        return [(byte)(list.Count >> 8), (byte)list.Count, .. list];
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    private static byte[] Latin1(string s) => Encoding.Latin1.GetBytes(s);

    private static string LongServerName(int length)
    {
        var name = new StringBuilder();
        while (name.Length < length)
        {
            if (name.Length > 0)
            {
                name.Append('.');
            }

            name.Append('a', Math.Min(63, length - name.Length));
        }

        string result = name.ToString();
        Assert.Equal(length, result.Length);
        return result;
    }
}
