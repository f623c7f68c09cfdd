using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.Interop;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Tunnel;

/// <summary>
/// Plain text inside CONNECT under the default SNI mode: an HTTP/1.x request is held to the CONNECT host and port by
/// its Host (or absolute URI), as a ClientHello is by its SNI; other protocols follow Policy:OtherTunnelProtocols.
/// </summary>
public sealed class PlainTextTunnelTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static JsonObject Config(int port, string? sni = null, string? others = null)
    {
        var policy = ProxyServer.AllowAll(port);
        if (sni is not null)
        {
            policy["RequireSniMatch"] = sni;
        }

        if (others is not null)
        {
            policy["OtherTunnelProtocols"] = others;
        }

        return ProxyServer.Config(policy, customize: p => p["AccessLog"] = new JsonObject { ["Format"] = "json" });
    }

    private static async Task<JsonElement> LogEntryAsync(ProxyServer proxy) =>
        JsonDocument.Parse(Assert.Single(await proxy.AccessLogLinesAsync(1))).RootElement.Clone();

    [Fact]
    public async Task CurlProxytunnel_HttpUrl_ReachesTheOriginUnderRequire()
    {
        var curl = Requirements.FindOnPath("curl");
        Requirements.SkipUnless(curl is not null, "curl is not installed (.ci/run installs it)");
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), new TestNetwork());

        var (exit, stdout, stderr) = await RunAsync(curl!, ["-sS", "--max-time", "20", "--proxytunnel", "-x", proxy.ProxyUri.ToString(), $"http://www.example.com:{origin.Port}/hello"]);

        Assert.True(exit == 0, stderr);
        Assert.Equal("GET /hello from origin", stdout);
        var entry = await LogEntryAsync(proxy);
        Assert.Equal("TCP_TUNNEL/200", entry.GetProperty("result").GetString());
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("error").ValueKind);
    }

    [Fact]
    public async Task UndiciProxyAgent_HttpUrl_TunnelsAndWorksUnderRequire()
    {
        var node = Requirements.FindOnPath("node");
        Requirements.SkipUnless(node is not null, "node is not installed (.ci/run installs it)");
        var modules = await NodeModulesWithAsync("undici");
        Requirements.SkipUnless(modules is not null, "the undici package is not installed globally (.ci/run runs npm install --global undici)");
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), new TestNetwork());

        // undici's ProxyAgent tunnels http:// URLs through CONNECT; two requests, on one tunnel or two.
        const string Script = """
            const { ProxyAgent, request } = require('undici');
            (async () => {
              const agent = new ProxyAgent(process.argv[1]);
              for (const path of ['/one', '/two']) {
                const r = await request(process.argv[2] + path, { dispatcher: agent });
                console.log(r.statusCode + ' ' + await r.body.text());
              }
              const denied = await request(process.argv[2] + '/x', { dispatcher: agent, headers: { host: 'evil.example.net:' + process.argv[3] } });
              console.log(denied.statusCode + ' ' + denied.headers['x-proxy-error']);
              await denied.body.text();
              await agent.close();
            })().catch(e => { console.error(e); process.exit(1); });
            """;
        var (exit, stdout, stderr) = await RunAsync(node!, ["-e", Script, proxy.ProxyUri.ToString(), $"http://www.example.com:{origin.Port}", origin.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new Dictionary<string, string> { ["NODE_PATH"] = modules! });

        Assert.True(exit == 0, stderr);
        Assert.Equal(["200 GET /one from origin", "200 GET /two from origin", "403 ERR_TUNNEL_HOST_MISMATCH"], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("GET /a HTTP/1.1\r\nHost: www.example.com:{port}\r\n\r\n", null)]
    [InlineData("GET /a HTTP/1.1\r\nhost:   WWW.Example.COM.:{port} \r\n\r\n", null)]
    [InlineData("GET http://www.example.com:{port}/a HTTP/1.1\r\nHost: www.example.com:{port}\r\n\r\n", null)]
    [InlineData("GET http://www.example.com:{port}/a HTTP/1.0\r\n\r\n", null)]
    [InlineData("GET /a HTTP/1.1\r\nHost: evil.example.net:{port}\r\n\r\n", "evil.example.net:{port}")]
    [InlineData("GET /a HTTP/1.1\r\nHost: www.example.com\r\n\r\n", "www.example.com:80")]
    [InlineData("GET /a HTTP/1.1\r\nHost: www.example.com:81\r\n\r\n", "www.example.com:81")]
    [InlineData("GET /a HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n", "127.0.0.1:{port}")]
    [InlineData("GET http://evil.example.net:{port}/a HTTP/1.1\r\n\r\n", "evil.example.net:{port}")]
    [InlineData("GET /a HTTP/1.0\r\n\r\n", "no host")]
    [InlineData("OPTIONS * HTTP/1.1\r\nHost: evil.example.net:{port}\r\n\r\n", "evil.example.net:{port}")]
    [InlineData("POST /a HTTP/1.1\r\nHost: evil.example.net:{port}\r\nContent-Length: 5\r\n\r\nhello", "evil.example.net:{port}")]
    [InlineData("GET /chat HTTP/1.1\r\nHost: evil.example.net:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "evil.example.net:{port}")]
    public async Task RequestInTunnel_IsHeldToTheConnectHostAndPort(string request, string? refusedFor)
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        var port = origin.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        await raw.SendAsync($"CONNECT www.example.com:{port} HTTP/1.1\r\nHost: www.example.com:{port}\r\n\r\n" + request.Replace("{port}", port, StringComparison.Ordinal));

        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        var head = await raw.ReadHeadAsync();
        if (refusedFor is null)
        {
            // Relayed: the origin answers; the client then ends the tunnel.
            Assert.Contains(" 200 OK\r\n", head, StringComparison.Ordinal);
            raw.Client.Client.Shutdown(SocketShutdown.Send);
            Assert.Contains("GET /a from origin", Encoding.ASCII.GetString(await raw.ReadToEndAsync()), StringComparison.Ordinal);
            var relayed = await LogEntryAsync(proxy);
            Assert.Equal("TCP_TUNNEL/200", relayed.GetProperty("result").GetString());
            Assert.Equal(JsonValueKind.Null, relayed.GetProperty("error").ValueKind);
            return;
        }

        var body = await raw.ReadBodyAsync(head);
        var entry = await LogEntryAsync(proxy);
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", head, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_TUNNEL_HOST_MISMATCH\r\n", head, StringComparison.Ordinal);
        Assert.Contains($"is for {refusedFor.Replace("{port}", port, StringComparison.Ordinal)}, not the CONNECT target", body, StringComparison.Ordinal);
        Assert.Empty(origin.RequestTargets);
        Assert.Empty(await raw.ReadToEndAsync());

        // The client got the 200 and then the 403 inside the tunnel: the line says so.
        Assert.Equal("TCP_DENIED/200", entry.GetProperty("result").GetString());
        Assert.Equal("ERR_TUNNEL_HOST_MISMATCH", entry.GetProperty("error").GetString());
        Assert.Equal(39 + Encoding.UTF8.GetByteCount(head) + Encoding.UTF8.GetByteCount(body), entry.GetProperty("bytes_down").GetInt64());
    }

    [Fact]
    public async Task RequestInTunnel_UrlAndHostDisagree_Gets400InsideTheTunnel()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n"
            + $"GET http://www.example.com:{origin.Port}/a HTTP/1.1\r\nHost: evil.example.net:{origin.Port}\r\n\r\n");

        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        var head = await raw.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", head, StringComparison.Ordinal);
        Assert.Contains("name different hosts", await raw.ReadBodyAsync(head), StringComparison.Ordinal);
        Assert.Empty(origin.RequestTargets);
    }

    [Fact]
    public async Task RequestInTunnel_NoHostUnderAllowMissing_IsRelayed()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port, sni: "AllowMissing"), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\nGET /a HTTP/1.0\r\n\r\n");

        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        var head = await raw.ReadHeadAsync();
        Assert.Contains(" 200 OK\r\n", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestInTunnel_MismatchCounted()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nHost: evil.example.net\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        await raw.ReadToEndAsync();
        await proxy.AccessLogLinesAsync(1);

        using var admin = new HttpClient();
        var metrics = await admin.GetStringAsync($"http://{proxy.AdminEndPoint}/metrics", Token);
        Assert.Matches(@"(?m)^proxy_tunnel_host_mismatch_total(\{\})? 1$", metrics);
        Assert.Matches(@"(?m)^proxy_errors_total\{code=""ERR_TUNNEL_HOST_MISMATCH""\} 1$", metrics);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("Deny", false)]
    [InlineData("Allow", true)]
    public async Task OtherProtocol_ClientSpeaksFirst_FollowsOtherTunnelProtocols(string? setting, bool relayed)
    {
        await using var origin = await RawOrigin.StartAsync(async (stream, token) =>
        {
            var buffer = new byte[21];
            await stream.ReadExactlyAsync(buffer, token);
            await stream.WriteAsync("SSH-2.0-Origin\r\n"u8.ToArray(), token);
        });
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port, others: setting), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\nSSH-2.0-OpenSSH_9.2\r\n");

        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        if (relayed)
        {
            Assert.Equal("SSH-2.0-Origin\r\n", Encoding.ASCII.GetString(await raw.ReadExactlyAsync(16)));
            raw.Client.Client.Shutdown(SocketShutdown.Send);
        }

        var rest = Encoding.ASCII.GetString(await raw.ReadToEndAsync());
        var entry = await LogEntryAsync(proxy);
        if (relayed)
        {
            Assert.Empty(rest);
            Assert.Equal("TCP_TUNNEL/200", entry.GetProperty("result").GetString());
        }
        else
        {
            Assert.Empty(rest);
            Assert.Equal("TCP_DENIED/200", entry.GetProperty("result").GetString());
            Assert.Equal("ERR_CLIENT_HELLO", entry.GetProperty("error").GetString());
            Assert.Contains("OtherTunnelProtocols", entry.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OtherProtocol_DestinationSpeaksFirst_IsRelayedAtOnceWhenAllowed()
    {
        await using var origin = await RawOrigin.StartAsync(async (stream, token) =>
        {
            await stream.WriteAsync("220 smtp.example.com ESMTP\r\n"u8.ToArray(), token);
            var buffer = new byte[6];
            await stream.ReadExactlyAsync(buffer, token);
            await stream.WriteAsync("221 bye\r\n"u8.ToArray(), token);
        });

        // A ClientHello timeout far longer than the test: the banner must not wait for it.
        var config = Config(origin.Port, others: "Allow");
        config["Proxy"]!["Timeouts"]!["ClientHello"] = "00:01:00";
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        var started = Stopwatch.StartNew();

        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        Assert.Equal("220 smtp.example.com ESMTP\r\n", Encoding.ASCII.GetString(await raw.ReadExactlyAsync(28)));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), "the banner waited for the ClientHello timeout");
        await raw.SendAsync("QUIT\r\n");
        Assert.Equal("221 bye\r\n", Encoding.ASCII.GetString(await raw.ReadExactlyAsync(9)));
    }

    [Fact]
    public async Task OtherProtocol_DestinationSpeaksFirst_IsClosedUnderTheDefault()
    {
        await using var origin = await RawOrigin.StartAsync(async (stream, token) =>
        {
            await stream.WriteAsync("220 smtp.example.com ESMTP\r\n"u8.ToArray(), token);
            await Task.Delay(TimeSpan.FromSeconds(20), token);
        });
        var config = Config(origin.Port);
        config["Proxy"]!["Timeouts"]!["ClientHello"] = "00:00:01";
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n");

        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        Assert.Empty(await raw.ReadToEndAsync());
        var entry = await LogEntryAsync(proxy);
        Assert.Equal("ERR_CLIENT_HELLO", entry.GetProperty("error").GetString());
        Assert.Equal(39, entry.GetProperty("bytes_down").GetInt64());
    }

    [Fact]
    public async Task Tunnel_ClientClosesWithoutSendingAnything_IsAnOrdinaryTunnel()
    {
        await using var origin = await RawOrigin.StartAsync(async (stream, token) =>
        {
            using var received = new MemoryStream();
            await stream.CopyToAsync(received, token);
            await stream.WriteAsync("bye"u8.ToArray(), token);
        });
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n");
        raw.Client.Client.Shutdown(SocketShutdown.Send);

        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\nbye", Encoding.ASCII.GetString(await raw.ReadToEndAsync()));
        var entry = await LogEntryAsync(proxy);
        Assert.Equal("TCP_TUNNEL/200", entry.GetProperty("result").GetString());
        Assert.Equal(39 + 3, entry.GetProperty("bytes_down").GetInt64());
    }

    [Fact]
    public async Task KeepAliveTunnel_LaterRequestForAnotherHost_IsStoppedAfterTheEarlierResponses()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        var host = $"www.example.com:{origin.Port}";

        // A body that looks like a request head must not be taken for one: the framing says where requests start.
        const string Decoy = "GET /decoy HTTP/1.1\r\nHost: evil.example.net\r\n\r\n";
        await raw.SendAsync($"CONNECT {host} HTTP/1.1\r\n\r\nGET /one HTTP/1.1\r\nHost: {host}\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        var first = await raw.ReadHeadAsync();
        Assert.Equal("GET /one from origin", await raw.ReadBodyAsync(first));
        await raw.SendAsync($"POST /two HTTP/1.1\r\nHost: {host}\r\nContent-Length: {Decoy.Length}\r\n\r\n{Decoy}"
            + $"POST /three HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n{Decoy.Length:x}\r\n{Decoy}\r\n0\r\nX-Trailer: 1\r\n\r\n");
        var second = await raw.ReadHeadAsync();
        Assert.Equal("POST /two from origin", await raw.ReadBodyAsync(second));
        var third = await raw.ReadHeadAsync();
        Assert.Equal("POST /three from origin", await raw.ReadBodyAsync(third));

        await raw.SendAsync($"GET /four HTTP/1.1\r\nHost: evil.example.net:{origin.Port}\r\n\r\n");
        var refused = await raw.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", refused, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_TUNNEL_HOST_MISMATCH\r\n", refused, StringComparison.Ordinal);
        await raw.ReadBodyAsync(refused);
        Assert.Empty(await raw.ReadToEndAsync());
        Assert.Equal(["/one", "/two", "/three"], origin.RequestTargets.ToArray());

        var entry = await LogEntryAsync(proxy);
        Assert.Equal("TCP_DENIED/200", entry.GetProperty("result").GetString());
        Assert.Equal("ERR_TUNNEL_HOST_MISMATCH", entry.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ClientWebSocket_WsUrlThroughConnect_WorksUnderRequire()
    {
        // .NET's ClientWebSocket, like most WebSocket clients, asks a proxy for a CONNECT tunnel even for ws://.
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), new TestNetwork());
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.Proxy = new System.Net.WebProxy(proxy.ProxyUri);

        await socket.ConnectAsync(new Uri($"ws://www.example.com:{origin.Port}/ws/echo"), Token).WaitAsync(TimeSpan.FromSeconds(20), Token);
        await socket.SendAsync("through the tunnel"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, endOfMessage: true, Token);
        var buffer = new byte[64];
        var received = await socket.ReceiveAsync(new ArraySegment<byte>(buffer), Token).WaitAsync(TimeSpan.FromSeconds(20), Token);

        Assert.Equal("through the tunnel", Encoding.UTF8.GetString(buffer, 0, received.Count));
        await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", Token).WaitAsync(TimeSpan.FromSeconds(20), Token);
        socket.Dispose();
        var entry = await LogEntryAsync(proxy);
        Assert.Equal("TCP_TUNNEL/200", entry.GetProperty("result").GetString());
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("error").ValueKind);
    }

    [Fact]
    public async Task KeepAliveTunnel_WebSocketAfterUpgrade_IsRelayedUnchecked()
    {
        await using var origin = await RawOrigin.StartAsync(async (stream, token) =>
        {
            var head = new MemoryStream();
            var one = new byte[1];
            while (!head.ToArray().AsSpan().EndsWith("\r\n\r\n"u8))
            {
                await stream.ReadExactlyAsync(one, token);
                head.WriteByte(one[0]);
            }

            await stream.WriteAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"u8.ToArray(), token);
            var frame = new byte[4];
            await stream.ReadExactlyAsync(frame, token);
            await stream.WriteAsync(frame, token);
        });
        await using var proxy = await ProxyServer.StartAsync(Config(origin.Port), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        var host = $"www.example.com:{origin.Port}";

        await raw.SendAsync($"CONNECT {host} HTTP/1.1\r\n\r\nGET /chat HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        Assert.StartsWith("HTTP/1.1 101 ", await raw.ReadHeadAsync(), StringComparison.Ordinal);
        byte[] frameOut = [0x81, 0x02, (byte)'h', (byte)'i'];
        await raw.SendAsync(frameOut);

        Assert.Equal(frameOut, await raw.ReadExactlyAsync(4));
    }

    /// <summary>The folder where a globally installed npm package <paramref name="package"/> lives, or null.</summary>
    internal static async Task<string?> NodeModulesWithAsync(string package)
    {
        var npm = Requirements.FindOnPath("npm");
        if (npm is null)
        {
            return null;
        }

        var (exit, stdout, _) = await RunAsync(npm, ["root", "--global"]);
        var root = stdout.Trim();
        return exit == 0 && Directory.Exists(Path.Combine(root, package)) ? root : null;
    }

    /// <summary>Runs a client with the interop tests' scrubbed environment, in a fresh home of its own.</summary>
    internal static async Task<ClientProcessResult> RunAsync(string program, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var home = Directory.CreateTempSubdirectory("egress-client-").FullName;
        try
        {
            return await ClientProcess.RunAsync(program, args, home, environment, Token);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
