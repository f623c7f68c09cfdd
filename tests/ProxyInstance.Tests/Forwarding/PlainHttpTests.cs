using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Forwarding;

public sealed class PlainHttpTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Get_AllowedName_ForwardsResponseAndLogsOneSquidLine()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync($"http://www.example.com:{origin.Port}/hello?x=1", Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("GET /hello?x=1 from origin", await response.Content.ReadAsStringAsync(Token));
        var line = Assert.Single(await proxy.AccessLogLinesAsync(1));
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("127.0.0.1", fields[2]);
        Assert.Equal("TCP_MISS/200", fields[3]);
        Assert.Equal("GET", fields[5]);
        Assert.Equal($"http://www.example.com:{origin.Port}/hello?x=1", fields[6]);
        Assert.Equal("HIER_DIRECT/127.0.0.1", fields[8]);
        Assert.Equal("allow-all", fields[10]);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    [InlineData("OPTIONS")]
    [InlineData("PROPFIND")]
    public async Task Send_AnyMethod_ReachesOriginWithThatMethod(string method)
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        using var client = proxy.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), $"http://www.example.com:{origin.Port}/upload");
        if (method is not ("GET" or "OPTIONS" or "DELETE"))
        {
            request.Content = new ByteArrayContent([1, 2, 3]);
        }

        using var response = await client.SendAsync(request, Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expectedBytes = request.Content is null ? "0 0" : "3 6";
        Assert.Equal($"{method} {expectedBytes}", await response.Content.ReadAsStringAsync(Token));
    }

    [Fact]
    public async Task Head_Request_ReturnsHeadersWithoutBody()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        using var client = proxy.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"http://www.example.com:{origin.Port}/bytes/1000"), Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1000, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(Token));
    }

    [Theory]
    [InlineData("bytes")]
    [InlineData("chunked")]
    public async Task Get_LargeBody_StreamsEveryByteIntact(string kind)
    {
        const long size = 64L * 1024 * 1024;
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync($"http://www.example.com:{origin.Port}/{kind}/{size}", HttpCompletionOption.ResponseHeadersRead, Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(kind == "chunked", response.Headers.TransferEncodingChunked == true);
        await using var body = await response.Content.ReadAsStreamAsync(Token);
        var buffer = new byte[81920];
        long offset = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, Token)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                Assert.True(buffer[i] == OriginServer.PatternByte(offset + i), $"byte {offset + i} differs");
            }

            offset += read;
        }

        Assert.Equal(size, offset);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Post_LargeBody_StreamsToOrigin(bool chunked)
    {
        const int size = 32 * 1024 * 1024;
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        using var client = proxy.CreateClient();
        var data = new byte[size];
        new Random(7).NextBytes(data);
        long sum = 0;
        foreach (var b in data)
        {
            sum += b;
        }

        HttpContent content = chunked ? new StreamContent(new NonSeekableStream(data)) : new ByteArrayContent(data);
        using var response = await client.PostAsync($"http://www.example.com:{origin.Port}/upload", content, Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"POST {size} {sum}", await response.Content.ReadAsStringAsync(Token));
        var upload = origin.RequestHeaders.Last();
        Assert.Equal(chunked, upload.TransferEncoding.ToString().Contains("chunked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Response_IsStreamed_FirstBytesArriveBeforeTheOriginFinishes()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync($"http://www.example.com:{origin.Port}/drip", HttpCompletionOption.ResponseHeadersRead, Token);
        await using var body = await response.Content.ReadAsStreamAsync(Token);
        var first = new byte[5];
        // A proxy that buffered the whole response would hold these bytes until the gate opens: it never does.
        await body.ReadExactlyAsync(first, Token).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Token);
        origin.DripGate.SetResult();

        Assert.Equal("first", Encoding.ASCII.GetString(first));
        Assert.Equal("-last", await new StreamReader(body).ReadToEndAsync(Token));
    }

    [Fact]
    public async Task Request_IsStreamed_OriginSeesFirstBytesBeforeTheClientFinishes()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        using var client = proxy.CreateClient();
        // The body's second part is only produced once the origin has seen the first one, so a proxy that
        // held the whole body before sending it would stall here. (The first part is larger than any copy or
        // socket buffer on the way: HttpClient holds a small chunk until its write buffer fills.)
        var firstPart = new byte[4 * 1024 * 1024];
        "part1"u8.CopyTo(firstPart);
        var content = new StreamContent(new GatedStream(firstPart, origin.FirstBodyBytes.Task, new byte[1000]));

        using var response = await client.PostAsync($"http://www.example.com:{origin.Port}/trickle-in", content, Token);

        Assert.Equal($"part1+{firstPart.Length - 5 + 1000}", await response.Content.ReadAsStringAsync(Token));
    }

    [Fact]
    public async Task KeepAlive_TwoRequestsOnOneClientConnection_ReuseOneOriginConnection()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        for (var i = 0; i < 2; i++)
        {
            await raw.SendAsync($"GET http://www.example.com:{origin.Port}/bytes/{10 + i} HTTP/1.1\r\nHost: www.example.com:{origin.Port}\r\n\r\n");
            var head = await raw.ReadHeadAsync();
            Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);
            Assert.Contains($"Content-Length: {10 + i}\r\n", head, StringComparison.OrdinalIgnoreCase);
            var body = await raw.ReadExactlyAsync(10 + i);
            Assert.Equal(OriginServer.PatternByte(9), body[9]);
        }

        Assert.Equal(1, origin.Connections);
    }

    [Theory]
    [InlineData("http://www.example.com/host", "www.example.com")]
    [InlineData("http://www.example.com:80/host", "www.example.com")]
    [InlineData("http://WWW.Example.COM/host", "www.example.com")]
    [InlineData("http://www.example.com:8080/host", "www.example.com:8080")]
    [InlineData("http://127.0.0.1/host", "127.0.0.1")]
    [InlineData("http://127.0.0.1:8080/host", "127.0.0.1:8080")]
    public async Task Forward_HostField_IsTheUrlAuthorityNotTheClientsHost(string url, string expected)
    {
        await using var origin = await OriginServer.StartAsync();
        var network = new TestNetwork().RedirectPort(80, origin.Port).RedirectPort(8080, origin.Port);
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port, 8080)), network);
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        // RFC 9112 §3.2.2: a proxy takes Host from the absolute-form target and ignores the field the client sent.
        await raw.SendAsync($"GET {url} HTTP/1.1\r\nHost: attacker.example.net:1\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", await raw.ReadHeadAsync(), StringComparison.Ordinal);

        Assert.Equal(expected, Assert.Single(origin.RequestHeaders).Host.ToString());
    }

    [Theory]
    [InlineData("Connection: X-Private-Hop\r\n")]
    [InlineData("Connection: keep-alive, X-Private-Hop\r\n")]
    [InlineData("Connection: X-Private-Hop , close\r\n")]
    [InlineData("connection: Keep-Alive\r\nCONNECTION: x-private-hop\r\n")]
    [InlineData("Connection: keep-alive\r\nProxy-Connection: keep-alive,X-Private-Hop\r\n")]
    [InlineData("Connection: keep-alive,,\tX-Private-Hop, not a name\r\n")]
    public async Task Forward_HopByHopAndProxyHeaders_AreNotForwarded(string connection)
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync($"GET http://www.example.com:{origin.Port}/headers HTTP/1.1\r\nHost: www.example.com:{origin.Port}\r\n"
            + connection + "X-Private-Hop: do-not-forward\r\nKeep-Alive: timeout=5\r\n"
            + "Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nX-End-To-End: kept\r\n\r\n");
        var head = await raw.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);

        var seen = Assert.Single(origin.RequestHeaders);
        Assert.Equal("kept", seen["X-End-To-End"].ToString());
        Assert.Equal($"www.example.com:{origin.Port}", seen.Host.ToString());
        foreach (var name in new[] { "X-Private-Hop", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "TE", "Via", "X-Forwarded-For" })
        {
            Assert.False(seen.ContainsKey(name), $"{name} was forwarded");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task KeepAlive_EachRequestLosesOnlyTheHeadersItsOwnConnectionFieldNames(bool firstIsDenied)
    {
        // The first request's body is a copy of the second request's head with another Connection field. Whether the
        // proxy streams that body to the origin or, having refused the request, leaves it for Kestrel to drain, the
        // second request must be judged by its own head only.
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        var secondLine = $"GET http://www.example.com:{origin.Port}/headers HTTP/1.1\r\n";
        var decoy = secondLine + "Connection: keep-alive, X-End-To-End\r\nX-Decoy: 1\r\n\r\n";
        var firstPort = firstIsDenied ? origin.Port + 1 : origin.Port;

        await raw.SendAsync($"POST http://www.example.com:{firstPort}/upload HTTP/1.1\r\nHost: www.example.com:{firstPort}\r\n"
            + $"Connection: keep-alive, X-First-Only\r\nX-First-Only: 1\r\nX-Private-Hop: first\r\nContent-Length: {decoy.Length}\r\n\r\n" + decoy);
        var firstHead = await raw.ReadHeadAsync();
        Assert.StartsWith(firstIsDenied ? "HTTP/1.1 403" : "HTTP/1.1 200", firstHead, StringComparison.Ordinal);
        var firstBody = await raw.ReadBodyAsync(firstHead);
        if (!firstIsDenied)
        {
            Assert.StartsWith($"POST {decoy.Length} ", firstBody, StringComparison.Ordinal);
        }

        await raw.SendAsync(secondLine + $"Host: www.example.com:{origin.Port}\r\nConnection: keep-alive, X-Private-Hop\r\n"
            + "X-Private-Hop: second\r\nX-End-To-End: kept\r\nX-First-Only: 2\r\n\r\n");
        var secondHead = await raw.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 200", secondHead, StringComparison.Ordinal);
        await raw.ReadBodyAsync(secondHead);

        var seen = origin.RequestHeaders.ToArray();
        Assert.Equal(firstIsDenied ? 1 : 2, seen.Length);
        if (!firstIsDenied)
        {
            Assert.False(seen[0].ContainsKey("X-First-Only"), "X-First-Only was forwarded on the request that named it");
            Assert.Equal("first", seen[0]["X-Private-Hop"].ToString());
        }

        var second = seen[^1];
        Assert.False(second.ContainsKey("X-Private-Hop"), "X-Private-Hop was forwarded on the request that named it");
        Assert.Equal("kept", second["X-End-To-End"].ToString());
        Assert.Equal("2", second["X-First-Only"].ToString());
        Assert.Equal(1, origin.Connections);
    }

    [Fact]
    public async Task Response_HeadersNamedInConnection_AreRemoved()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(origin.Port)), new TestNetwork());
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync($"http://www.example.com:{origin.Port}/hop-by-hop", Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Origin-Hop"));
        Assert.Equal("kept", response.Headers.GetValues("X-Origin-End").Single());
    }

    [Fact]
    public async Task ViaAndXForwardedFor_WhenEnabled_AreAdded()
    {
        await using var origin = await OriginServer.StartAsync();
        var config = ProxyServer.Config(ProxyServer.AllowAll(origin.Port), customize: p =>
            p["Headers"] = new JsonObject { ["AddVia"] = true, ["AddXForwardedFor"] = true });
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());
        using var client = proxy.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://www.example.com:{origin.Port}/headers");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "192.0.2.1");

        using var response = await client.SendAsync(request, Token);

        var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(await response.Content.ReadAsStringAsync(Token))!;
        Assert.Equal("1.1 egress-proxy", headers["Via"]);
        Assert.Equal("192.0.2.1, 127.0.0.1", headers["X-Forwarded-For"]);
        Assert.Contains("1.1 egress-proxy", response.Headers.Via.Select(v => v.ToString()));
    }

    [Fact]
    public async Task Get_DeniedName_Returns403WithCodeAndSendsNothingUpstream()
    {
        await using var origin = await OriginServer.StartAsync();
        var policy = new JsonObject
        {
            ["Rules"] = new JsonArray(new JsonObject { ["Name"] = "only-api", ["Action"] = "Allow", ["Domains"] = new JsonArray("api.example.com"), ["Ports"] = new JsonArray(origin.Port) }),
        };
        var network = new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy), network);
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync($"http://www.example.com:{origin.Port}/", Token);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("ERR_ACCESS_DENIED", response.Headers.GetValues("X-Proxy-Error").Single());
        var body = await response.Content.ReadAsStringAsync(Token);
        Assert.Contains($"www.example.com:{origin.Port}", body, StringComparison.Ordinal);
        Assert.Contains("default action is Deny", body, StringComparison.Ordinal);
        Assert.Equal(0, origin.Connections);
        Assert.Empty(network.Dialled);
        Assert.Empty(network.Lookups);
        var line = Assert.Single(await proxy.AccessLogLinesAsync(1));
        Assert.Contains(" TCP_DENIED/403 ", line, StringComparison.Ordinal);
        Assert.EndsWith(" ERR_ACCESS_DENIED", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n", "forward proxy")]
    [InlineData("GET https://www.example.com/ HTTP/1.1\r\nHost: www.example.com\r\n\r\n", "CONNECT")]
    [InlineData("GET http://user@www.example.com/ HTTP/1.1\r\nHost: www.example.com\r\n\r\n", "userinfo")]
    public async Task Request_NotAForwardableTarget_Returns400(string request, string hint)
    {
        var network = new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(80)), network);
        var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, request);

        Assert.StartsWith("HTTP/1.1 400", response, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_INVALID_REQUEST", response, StringComparison.Ordinal);
        Assert.Contains(hint, response, StringComparison.Ordinal);
        Assert.Empty(network.Dialled);
    }

    [Fact]
    public async Task Get_UnresolvableName_Returns502DnsFailure()
    {
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(80)), new TestNetwork());
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync("http://nowhere.example.com/", Token);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("ERR_DNS_FAIL", response.Headers.GetValues("X-Proxy-Error").Single());
        Assert.Contains("nowhere.example.com", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_RefusedPort_Returns502ConnectFailure()
    {
        var port = UnusedPort();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(port)), new TestNetwork());
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync($"http://www.example.com:{port}/", Token);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("ERR_CONNECT_FAIL", response.Headers.GetValues("X-Proxy-Error").Single());
        Assert.Contains("connection refused", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_OriginNeverAccepts_Returns504ConnectTimeout()
    {
        using var blackHole = BlackHoleListener.Start();
        var config = ProxyServer.Config(ProxyServer.AllowAll(blackHole.Port), customize: p => p["Timeouts"]!["Connect"] = "00:00:01");
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync($"http://www.example.com:{blackHole.Port}/", Token);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("ERR_CONNECT_TIMEOUT", response.Headers.GetValues("X-Proxy-Error").Single());
    }

    internal static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Yields a first part, waits for a signal (bounded), then yields the rest.</summary>
    private sealed class GatedStream(byte[] first, Task gate, byte[] rest) : Stream
    {
        private int _stage;
        private int _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            switch (_stage++)
            {
                case 0:
                    var count = Math.Min(buffer.Length, first.Length - _offset);
                    first.AsSpan(_offset, count).CopyTo(buffer.Span);
                    _offset += count;
                    if (_offset < first.Length)
                    {
                        _stage--;
                    }

                    return count;
                case 1:
                    await gate.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
                    rest.CopyTo(buffer);
                    _stage = 2;
                    return rest.Length;
                default:
                    return 0;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}

/// <summary>
/// A loopback listener whose accept queue is full, so the kernel drops further SYNs and a connect hangs:
/// a connect timeout without leaving the machine.
/// </summary>
internal sealed class BlackHoleListener : IDisposable
{
    private readonly Socket _listener;
    private readonly List<Socket> _fillers = [];

    private BlackHoleListener(Socket listener) => _listener = listener;

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public static BlackHoleListener Start()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var hole = new BlackHoleListener(listener);
        for (var i = 0; i < 8; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            hole._fillers.Add(filler);
            filler.Blocking = false;
            try
            {
                filler.Connect(listener.LocalEndPoint!);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
            }
        }

        Thread.Sleep(200);
        return hole;
    }

    public void Dispose()
    {
        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }

        _listener.Dispose();
    }
}
