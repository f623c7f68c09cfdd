using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Robustness;

/// <summary>
/// Request smuggling and parser robustness, end to end over raw loopback sockets: every malformed head or body gets
/// its 4xx, the proxy closes the connection, and no complete request reaches the origin. Each case runs against its
/// own proxy and origin, so the origin's counters belong to that case alone.
/// </summary>
public sealed class RequestSmugglingTests : RobustnessTest
{
    // Limits.MaxRequestHeadBytes, for both paths: small enough to cross cheaply, larger than the 8 KiB request line
    // limit so that an overlong line is told apart (the CONNECT parser counts the line against the head limit too).
    private const int HeadLimit = 16 * 1024;
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan OriginSettleTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Where a malformed request is caught: in its head, before anything is dialled, or in its body, after the head was forwarded.</summary>
    private enum Stage
    {
        Head,
        Body,
    }

    /// <summary>
    /// A plain-HTTP request (<c>{target}</c> and <c>{host}</c> stand for an allowed origin on loopback), the status it must
    /// get, and the X-Proxy-Error code when the proxy answers rather than Kestrel's parser, which sends none.
    /// </summary>
    private sealed record PlainCase(string Request, int Status, string? Code, Stage Stage);

    private const string Post = "POST {target} HTTP/1.1\r\nHost: {host}\r\n";
    private const string Get = "GET {target} HTTP/1.1\r\nHost: {host}\r\n";

    private static readonly Dictionary<string, PlainCase> PlainCases = new()
    {
        // RFC 9112 §6.1: both framings in one request is the classic CL.TE / TE.CL desync; refused in either order.
        ["content-length-then-transfer-encoding"] = new(Post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "ERR_INVALID_REQUEST", Stage.Head),
        ["transfer-encoding-then-content-length"] = new(Post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400, "ERR_INVALID_REQUEST", Stage.Head),
        // RFC 9112 §6.3: differing or listed Content-Length values leave the body length undetermined.
        ["two-content-lengths"] = new(Post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400, null, Stage.Head),
        ["content-length-list"] = new(Post + "Content-Length: 1, 2\r\n\r\nhello!", 400, null, Stage.Head),
        ["content-length-negative"] = new(Post + "Content-Length: -1\r\n\r\n", 400, null, Stage.Head),
        ["content-length-space-before-colon"] = new(Post + "Content-Length : 5\r\n\r\nhello", 400, null, Stage.Head),
        // RFC 9112 §6.1: chunked must be the final coding, and the proxy forwards no other coding.
        ["transfer-encoding-gzip"] = new(Post + "Transfer-Encoding: gzip\r\n\r\nhello", 400, null, Stage.Head),
        ["transfer-encoding-chunked-then-gzip"] = new(Post + "Transfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, null, Stage.Head),
        ["transfer-encoding-gzip-then-chunked"] = new(Post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400, "ERR_INVALID_REQUEST", Stage.Head),
        ["transfer-encoding-xchunked"] = new(Post + "Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, null, Stage.Head),
        ["transfer-encoding-twice"] = new(Post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "ERR_INVALID_REQUEST", Stage.Head),
        // RFC 9112 §5.2: obs-fold in a request is refused with 400.
        ["obs-fold"] = new(Get + "X-Folded: first\r\n second\r\n\r\n", 400, null, Stage.Head),
        // RFC 9112 §2.2: lines end in CRLF. Bare LF is refused (the proxy turns Kestrel's leniency off), bare CR always.
        ["bare-lf-everywhere"] = new(Get.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n", 400, null, Stage.Head),
        ["bare-lf-in-one-field"] = new(Get + "X-A: 1\nContent-Length: 5\r\n\r\nhello", 400, null, Stage.Head),
        ["bare-cr-in-value"] = new(Get + "X-A: a\rb\r\n\r\n", 400, null, Stage.Head),
        // RFC 9110 §5.5: NUL is never part of a field value, nor of a request-target.
        ["nul-in-value"] = new(Get + "X-A: a\0b\r\n\r\n", 400, null, Stage.Head),
        ["nul-in-target"] = new("GET {target}\0 HTTP/1.1\r\nHost: {host}\r\n\r\n", 400, null, Stage.Head),
        // Limits: the request line (8 KiB) and the head (Limits.MaxRequestHeadBytes).
        ["request-line-too-long"] = new("GET {target}?" + new string('a', 9000) + " HTTP/1.1\r\nHost: {host}\r\n\r\n", 414, null, Stage.Head),
        ["head-too-large"] = new(Get + "X-Big: " + new string('a', HeadLimit + 1000) + "\r\n\r\n", 431, null, Stage.Head),
        // Chunked framing errors show only in the body, after the head was forwarded (RFC 9112 §7.1).
        ["chunk-size-overflow"] = new(Post + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n", 400, "ERR_INVALID_REQUEST", Stage.Body),
        ["chunk-size-not-hex"] = new(Post + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400, "ERR_INVALID_REQUEST", Stage.Body),
        ["chunk-size-bare-lf"] = new(Post + "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400, "ERR_INVALID_REQUEST", Stage.Body),
        ["chunk-data-overrun"] = new(Post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello, smuggled\r\n0\r\n\r\n", 400, "ERR_INVALID_REQUEST", Stage.Body),
    };

    /// <summary>RFC 9110 §9.3.6 and RFC 9112 §3.2.3: a CONNECT target is exactly host:port, port 1 to 65535, IPv6 in brackets.</summary>
    private static readonly Dictionary<string, string> ConnectAuthorities = new()
    {
        ["host-without-port"] = "www.example.com",
        ["host-and-colon"] = "www.example.com:",
        ["port-without-host"] = ":{port}",
        ["port-zero"] = "www.example.com:0",
        ["port-65536"] = "www.example.com:65536",
        ["port-with-sign"] = "www.example.com:+{port}",
        ["port-too-many-digits"] = "www.example.com:0000{port}",
        ["ipv6-unbracketed"] = "::1:{port}",
        ["ipv6-bracketed-without-port"] = "[::1]",
        ["userinfo"] = "user@www.example.com:{port}",
        ["userinfo-with-password"] = "user:secret@www.example.com:{port}",
        ["space-in-host"] = "www.example .com:{port}",
        ["tab-before-port"] = "www.example.com\t:{port}",
        ["control-character"] = "www.exa\u0001mple.com:{port}",
        ["nul"] = "www.example.com\0:{port}",
        ["del"] = "www.example.com:{port}\u007f",
        ["percent-encoded"] = "%77ww.example.com:{port}",
    };

    /// <summary>A CONNECT head (<c>{authority}</c> is the origin) and the status and code the tunnel parser must answer with.</summary>
    private sealed record ConnectCase(string Request, int Status, string Code);

    private const string Connect = "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n";

    private static readonly Dictionary<string, ConnectCase> ConnectCases = new()
    {
        ["head-too-large"] = new(Connect + "X-Big: " + new string('a', HeadLimit + 1000) + "\r\n\r\n", 431, "ERR_HEAD_TOO_LARGE"),
        ["request-line-too-long"] = new("CONNECT " + new string('a', 9000) + ".example.com:443 HTTP/1.1\r\n\r\n", 414, "ERR_URI_TOO_LONG"),
        // RFC 9110 §9.3.6: CONNECT has no content, so any framing header is an attempt to smuggle one.
        ["content-length"] = new(Connect + "Content-Length: 5\r\n\r\nhello", 400, "ERR_INVALID_REQUEST"),
        ["transfer-encoding"] = new(Connect + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "ERR_INVALID_REQUEST"),
        ["obs-fold"] = new(Connect + "X-Folded: first\r\n second\r\n\r\n", 400, "ERR_INVALID_REQUEST"),
        ["bare-lf"] = new(Connect.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n", 400, "ERR_INVALID_REQUEST"),
        ["bare-cr-in-value"] = new(Connect + "X-A: a\rb\r\n\r\n", 400, "ERR_INVALID_REQUEST"),
        ["nul-in-value"] = new(Connect + "X-A: a\0b\r\n\r\n", 400, "ERR_INVALID_REQUEST"),
        ["two-hosts"] = new(Connect + "Host: www.example.net:443\r\n\r\n", 400, "ERR_INVALID_REQUEST"),
        ["http-2-0"] = new("CONNECT {authority} HTTP/2.0\r\n\r\n", 505, "ERR_VERSION"),
    };

    public static TheoryData<string> PlainCaseNames => [.. PlainCases.Keys];

    public static TheoryData<string> ConnectAuthorityNames => [.. ConnectAuthorities.Keys];

    public static TheoryData<string> ConnectCaseNames => [.. ConnectCases.Keys];

    [Theory]
    [MemberData(nameof(PlainCaseNames))]
    public async Task PlainRequest_Malformed_GetsItsStatusIsClosedAndNeverCompletesAtTheOrigin(string name)
    {
        var @case = PlainCases[name];
        await using var origin = await OriginServer.StartAsync();
        var network = new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), network);
        var request = @case.Request
            .Replace("{target}", $"http://www.example.com:{origin.Port}/upload", StringComparison.Ordinal)
            .Replace("{host}", $"www.example.com:{origin.Port}", StringComparison.Ordinal);

        RobustnessLedger.BadInputs();
        var response = await ExchangeUntilClosedAsync(proxy, request);

        Assert.StartsWith($"HTTP/1.1 {@case.Status} ", response, StringComparison.Ordinal);
        if (@case.Code is { } code)
        {
            Assert.Contains($"\r\n{Errors.ProxyErrorResponses.ErrorHeader}: {code}\r\n", response, StringComparison.Ordinal);
            Assert.EndsWith($" {code}", Assert.Single(await proxy.AccessLogLinesAsync(1)), StringComparison.Ordinal);
        }

        if (@case.Stage == Stage.Head)
        {
            AssertNothingDialled(origin, network);
        }
        else
        {
            // A chunked framing error shows only once the head has been forwarded and the body is streaming, so the
            // origin may have accepted a connection and started a handler. What must never happen is that the origin
            // receives the request complete: the proxy aborts the upstream request, so every handler the origin
            // started fails on a body cut short instead of running to its end.
            await AssertNoRequestCompletesAsync(origin);
        }
    }

    [Theory]
    [InlineData("Content-Length")]
    [InlineData("Content-Type")]
    public async Task PlainRequest_ConnectionNamesAContentField_IsForwardedWithoutItBodyIntact(string field)
    {
        // RFC 9110 §7.6.1: a proxy removes the fields Connection names. Naming Content-Length is the hop-by-hop trick
        // that desyncs a proxy which drops the field but still forwards the body as it came; here the body must be
        // re-framed (chunked) and arrive whole. These fields live on HttpContent, which once made the removal throw
        // and the proxy answer 502.
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        RobustnessLedger.BadInputs();
        await raw.SendAsync($"POST http://www.example.com:{origin.Port}/upload HTTP/1.1\r\nHost: www.example.com:{origin.Port}\r\n"
            + $"Content-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive, {field}\r\n\r\nhello");
        var head = await raw.ReadHeadAsync();

        Assert.StartsWith("HTTP/1.1 200 ", head, StringComparison.Ordinal);
        Assert.Equal($"POST 5 {"hello".Sum(c => c)}", await raw.ReadBodyAsync(head));
        var seen = Assert.Single(origin.RequestHeaders);
        Assert.False(seen.ContainsKey(field), $"{field} was forwarded although Connection names it");
        Assert.False(seen.ContainsKey("Content-Length") && seen.ContainsKey("Transfer-Encoding"), "the origin received both framings");
    }

    [Theory]
    [MemberData(nameof(ConnectAuthorityNames))]
    public async Task Connect_MalformedAuthority_Returns400IsClosedAndDialsNothing(string name)
    {
        await using var origin = await OriginServer.StartAsync();
        var network = new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), network);
        var authority = ConnectAuthorities[name].Replace("{port}", origin.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        RobustnessLedger.BadInputs();
        var response = await ExchangeUntilClosedAsync(proxy, $"CONNECT {authority} HTTP/1.1\r\nHost: www.example.com:{origin.Port}\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", response, StringComparison.Ordinal);
        Assert.Contains($"\r\n{Errors.ProxyErrorResponses.ErrorHeader}: ERR_INVALID_REQUEST\r\n", response, StringComparison.Ordinal);
        AssertNothingDialled(origin, network);
    }

    [Theory]
    [MemberData(nameof(ConnectCaseNames))]
    public async Task Connect_MalformedHead_GetsItsStatusIsClosedAndDialsNothing(string name)
    {
        var @case = ConnectCases[name];
        await using var origin = await OriginServer.StartAsync();
        var network = new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), network);

        RobustnessLedger.BadInputs();
        var response = await ExchangeUntilClosedAsync(proxy, @case.Request.Replace("{authority}", $"www.example.com:{origin.Port}", StringComparison.Ordinal));

        Assert.StartsWith($"HTTP/1.1 {@case.Status} ", response, StringComparison.Ordinal);
        Assert.Contains($"\r\n{Errors.ProxyErrorResponses.ErrorHeader}: {@case.Code}\r\n", response, StringComparison.Ordinal);
        Assert.EndsWith($" {@case.Code}", Assert.Single(await proxy.AccessLogLinesAsync(1)), StringComparison.Ordinal);
        AssertNothingDialled(origin, network);
    }

    [Fact]
    public async Task Connect_WellFormedAuthority_ReachesTheOrigin()
    {
        // The control for the CONNECT cases: the same proxy and origin do connect when the head is right, so "no
        // connection" above is the proxy's refusal and not a test that could never connect.
        await using var origin = await OriginServer.StartAsync();
        var network = new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port, sni: "Off"), network);
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        RobustnessLedger.Requests();
        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\nHost: www.example.com:{origin.Port}\r\n\r\n");

        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        Assert.Single(network.Dialled);
        await WaitUntilAsync(() => origin.Connections == 1, "the origin never accepted the tunnel's connection");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Head_SentOneByteAtATime_Gets408OrIsClosedWithinTheHeaderTimeout(bool connect)
    {
        var headerTimeout = TimeSpan.FromSeconds(2);
        await using var origin = await OriginServer.StartAsync();
        var network = new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port, headersTimeout: headerTimeout), network);
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        var head = connect
            ? $"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\nHost: www.example.com:{origin.Port}\r\nX-Slow: "
            : $"GET http://www.example.com:{origin.Port}/ HTTP/1.1\r\nHost: www.example.com:{origin.Port}\r\nX-Slow: ";
        // A head that never ends, one byte every 100 ms: slowloris. Kestrel checks its timeouts on a 1 s heartbeat and
        // adds one interval, so its 408 comes up to 2 s after the limit; the trickle stops well after that, so a proxy
        // without a header timeout fails the test instead of hanging it.
        var trickleBudget = headerTimeout * 6;

        RobustnessLedger.Faults();
        var clock = Stopwatch.StartNew();
        var reading = ReadUntilClosedAsync(raw, trickleBudget + CloseTimeout);
        var sent = 0;
        try
        {
            while (!reading.IsCompleted && clock.Elapsed < trickleBudget)
            {
                var next = sent < head.Length ? (byte)head[sent] : (byte)'a';
                await raw.Stream.WriteAsync(new[] { next }, Token).AsTask().WaitAsync(RawClient.Timeout, Token);
                sent++;
                await Task.WhenAny(reading, Task.Delay(TimeSpan.FromMilliseconds(100), Token));
            }
        }
        catch (IOException)
        {
            // The proxy closed while a byte was on its way: the reader has the answer.
        }

        var response = Encoding.ASCII.GetString(await reading);
        var elapsed = clock.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine($"{sent} bytes over {elapsed.TotalSeconds:0.0} s, then: {(response.Length == 0 ? "closed without an answer" : response.Split("\r\n")[0])}");

        Assert.True(elapsed < trickleBudget, $"the proxy still waited for the head after {elapsed.TotalSeconds:0.0} s ({sent} bytes)");
        Assert.True(elapsed >= headerTimeout / 2, $"closed after {elapsed.TotalSeconds:0.0} s, long before the header timeout: not the timeout that closed it");
        if (connect)
        {
            // The tunnel path's own parser answers, with its code, once any byte of a CONNECT head has arrived.
            Assert.StartsWith("HTTP/1.1 408 ", response, StringComparison.Ordinal);
            Assert.Contains($"\r\n{Errors.ProxyErrorResponses.ErrorHeader}: ERR_REQUEST_TIMEOUT\r\n", response, StringComparison.Ordinal);
            Assert.Contains(" NONE_NONE/408 ", Assert.Single(await proxy.AccessLogLinesAsync(1)), StringComparison.Ordinal);
        }
        else if (response.Length > 0)
        {
            Assert.StartsWith("HTTP/1.1 408 ", response, StringComparison.Ordinal);
        }

        AssertNothingDialled(origin, network);
    }

    [Theory]
    [InlineData("RequestBody", false)]
    [InlineData("RequestBody", true)]
    [InlineData("UpstreamResponse", false)]
    public async Task Body_ClientStallsMidBody_Gets408WithCodeIsClosedAndOriginNeverCompletes(string timeout, bool chunked)
    {
        // Either limit may be the shorter: a stall is the client's, and answered the same, whichever ends it.
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port, timeouts: t => t[timeout] = "00:00:02"), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        var head = $"POST http://www.example.com:{origin.Port}/upload HTTP/1.1\r\nHost: www.example.com:{origin.Port}\r\n";

        RobustnessLedger.Faults();
        // Promises 100 bytes, sends 10, then goes quiet with the connection open.
        await raw.SendAsync(chunked
            ? head + "Transfer-Encoding: chunked\r\n\r\n64\r\n0123456789"
            : head + "Content-Length: 100\r\n\r\n0123456789");
        var response = Encoding.ASCII.GetString(await ReadUntilClosedAsync(raw, CloseTimeout));

        Assert.StartsWith("HTTP/1.1 408 ", response, StringComparison.Ordinal);
        Assert.Contains($"\r\n{Errors.ProxyErrorResponses.ErrorHeader}: ERR_BODY_TIMEOUT\r\n", response, StringComparison.Ordinal);
        Assert.Contains("\r\nConnection: close\r\n", response, StringComparison.Ordinal);
        var line = Assert.Single(await proxy.AccessLogLinesAsync(1));
        Assert.Contains(" TCP_MISS/408 ", line, StringComparison.Ordinal);
        Assert.EndsWith(" ERR_BODY_TIMEOUT", line, StringComparison.Ordinal);
        // The head and the first bytes were streamed on to the origin; the aborted upstream request leaves it with a
        // body cut short, never a complete request.
        await AssertNoRequestCompletesAsync(origin);
    }

    [Fact]
    public async Task Body_SlowButNeverIdleForTheTimeout_IsForwardedWhole()
    {
        // The body timeout limits the gap between bytes, not the time the whole body takes.
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port, timeouts: t => t["RequestBody"] = "00:00:02"), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        RobustnessLedger.Requests();
        await raw.SendAsync($"POST http://www.example.com:{origin.Port}/upload HTTP/1.1\r\nHost: www.example.com:{origin.Port}\r\nContent-Length: 6\r\n\r\n");
        for (var i = 0; i < 6; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), Token);
            await raw.SendAsync([(byte)'1']);
        }

        var head = await raw.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 200 ", head, StringComparison.Ordinal);
        Assert.Equal($"POST 6 {6 * (int)'1'}", await raw.ReadBodyAsync(head));
        Assert.Equal(1, origin.CompletedRequests);
    }

    private static JsonObject Config(int port, string sni = "Require", TimeSpan? headersTimeout = null, Action<JsonObject>? timeouts = null) =>
        ProxyServer.Config(ProxyServer.AllowAll(port), customize: proxy =>
        {
            proxy["Limits"] = new JsonObject { ["MaxRequestHeadBytes"] = HeadLimit };
            proxy["Policy"]!["RequireSniMatch"] = sni;
            var t = proxy["Timeouts"]!.AsObject();
            if (headersTimeout is { } headers)
            {
                t["RequestHeaders"] = headers.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
            }

            timeouts?.Invoke(t);
        });

    /// <summary>Sends the request on a fresh connection and returns everything the proxy answers before it closes.</summary>
    private static async Task<string> ExchangeUntilClosedAsync(ProxyServer proxy, string request)
    {
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        try
        {
            await raw.SendAsync(Encoding.Latin1.GetBytes(request));
        }
        catch (IOException)
        {
            // The proxy may answer and close before a long request is all sent: the answer is still to be read.
        }

        return Encoding.Latin1.GetString(await ReadUntilClosedAsync(raw, CloseTimeout));
    }

    /// <summary>
    /// Reads until the proxy closes the connection, with a FIN or a reset (a close with unread request bytes resets),
    /// and fails if it is still open after <paramref name="timeout"/>.
    /// </summary>
    private static async Task<byte[]> ReadUntilClosedAsync(RawClient raw, TimeSpan timeout)
    {
        using var received = new MemoryStream();
        var buffer = new byte[4096];
        var deadline = Stopwatch.StartNew();
        try
        {
            while (true)
            {
                var left = timeout - deadline.Elapsed;
                var read = await raw.Stream.ReadAsync(buffer, Token).AsTask().WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
            }
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the proxy kept the connection open for {timeout.TotalSeconds:0} s; it answered: {Encoding.Latin1.GetString(received.ToArray())}");
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
        }

        return received.ToArray();
    }

    private static void AssertNothingDialled(OriginServer origin, TestNetwork network)
    {
        Assert.Empty(network.Dialled);
        Assert.Equal(0, origin.Connections);
        Assert.Empty(origin.RequestTargets);
    }

    /// <summary>Waits until every handler the origin started has ended, then checks that none of them ran to completion.</summary>
    private static async Task AssertNoRequestCompletesAsync(OriginServer origin)
    {
        await WaitUntilAsync(
            () => origin.CompletedRequests + origin.FailedRequests >= origin.RequestTargets.Count,
            $"the origin still holds a request open: {origin.RequestTargets.Count} started, {origin.CompletedRequests} completed, {origin.FailedRequests} failed");
        Assert.Equal(0, origin.CompletedRequests);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < OriginSettleTimeout, failure);
            await Task.Delay(50, Token);
        }
    }
}
