using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.TestHost;
using EgressLab.ProxyInstance.Tests.Tunnel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EgressLab.ProxyInstance.Tests.Forwarding;

/// <summary>
/// WebSockets on the plain-HTTP path: the client sends <c>GET http://host/path</c> in absolute form with
/// <c>Upgrade: websocket</c>, and the forwarder relays the 101 and then both directions. (ClientWebSocket asks a
/// proxy for a CONNECT tunnel even for ws://, so the client here is a raw socket that speaks WebSocket after the
/// 101.) Each exchange gets one access log line whose status is the 101 and whose bytes are what the client sent
/// and received after it.
/// </summary>
public sealed class WebSocketTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Upgrade_ClientClosesNormally_OneLineWith101TheBytesAndNoError()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await StartProxyAsync(origin.Port);
        CountedStream counted;
        await using (var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint))
        {
            counted = await UpgradeAsync(raw, origin.Port, "/ws/echo");
            using var socket = ClientOver(counted);
            await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, Token).WaitAsync(Timeout, Token);
            Assert.Equal("hello", await ReceiveTextAsync(socket));

            // The origin completes the handshake and leaves closing the connection to the client, which closes it.
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "client done", Token).WaitAsync(Timeout, Token);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        }

        var line = await SingleLineAsync(proxy);
        AssertClosedNormally(line, counted);
    }

    [Fact]
    public async Task Upgrade_OriginClosesNormally_OneLineWith101TheBytesAndNoError()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await StartProxyAsync(origin.Port);
        CountedStream counted;
        await using (var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint))
        {
            counted = await UpgradeAsync(raw, origin.Port, "/ws/close");
            counted.KeepOpen = true;
            using var socket = ClientOver(counted);
            Assert.Equal("bye", await ReceiveTextAsync(socket));
            var close = await socket.ReceiveAsync(new byte[64], Token).WaitAsync(Timeout, Token);
            Assert.Equal(WebSocketMessageType.Close, close.MessageType);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "client agrees", Token).WaitAsync(Timeout, Token);

            // The origin closes the connection once it has the client's answer, and the proxy passes that on.
            Assert.Equal(0, await counted.ReadAsync(new byte[1], Token).AsTask().WaitAsync(Timeout, Token));
        }

        var line = await SingleLineAsync(proxy);
        AssertClosedNormally(line, counted);
    }

    [Fact]
    public async Task Upgrade_ClientResetsMidStream_OneLineWithoutAnErrorCode()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await StartProxyAsync(origin.Port);
        await using (var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint))
        {
            var counted = await UpgradeAsync(raw, origin.Port, "/ws/echo");
            using var socket = ClientOver(counted);
            await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, Token).WaitAsync(Timeout, Token);
            Assert.Equal("hello", await ReceiveTextAsync(socket));
            raw.Client.Client.LingerState = new LingerOption(enable: true, seconds: 0);
            raw.Client.Client.Close();
        }

        var line = await SingleLineAsync(proxy);
        Assert.Equal(101, line.GetProperty("status").GetInt32());
        // Like any client that leaves mid-exchange: not the proxy's or the origin's failure.
        Assert.Equal(JsonValueKind.Null, line.GetProperty("error").ValueKind);
        Assert.True(line.GetProperty("bytes_up").GetInt64() > 0);
        Assert.True(line.GetProperty("bytes_down").GetInt64() > 0);
    }

    [Fact]
    public async Task Upgrade_OriginResetsMidStream_LoggedAsUpstreamFailureWithTheBytes()
    {
        await using var origin = await RawOrigin.StartAsync(async (stream, token) =>
        {
            await AcceptUpgradeAsync(stream, token);
            using var server = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
            await server.SendAsync("first"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, token);
            await server.ReceiveAsync(new byte[64], token);
            // Mid-stream, with the client waiting for more: a reset, not a close.
            stream.Socket.LingerState = new LingerOption(enable: true, seconds: 0);
            stream.Socket.Close();
        });
        await using var proxy = await StartProxyAsync(origin.Port);
        CountedStream counted;
        await using (var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint))
        {
            counted = await UpgradeAsync(raw, origin.Port, "/ws/reset");
            using var socket = ClientOver(counted);
            Assert.Equal("first", await ReceiveTextAsync(socket));
            await socket.SendAsync("ack"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, Token).WaitAsync(Timeout, Token);
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ReceiveAsync(new byte[64], Token).WaitAsync(Timeout, Token));
        }

        var line = await SingleLineAsync(proxy);
        Assert.Equal(101, line.GetProperty("status").GetInt32());
        Assert.Equal("ERR_UPSTREAM_FAIL", line.GetProperty("error").GetString());
        Assert.Equal(counted.BytesWritten, line.GetProperty("bytes_up").GetInt64());
        Assert.Equal(counted.BytesRead, line.GetProperty("bytes_down").GetInt64());
    }

    [Fact]
    public async Task Upgrade_IdleForTheUpstreamResponseTimeout_ClosedAndLoggedAsUpstreamTimeout()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var proxy = await StartProxyAsync(origin.Port, upstreamResponse: "00:00:01");
        await using (var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint))
        {
            var counted = await UpgradeAsync(raw, origin.Port, "/ws/echo");
            using var socket = ClientOver(counted);
            await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, Token).WaitAsync(Timeout, Token);
            Assert.Equal("hello", await ReceiveTextAsync(socket));

            // Nothing more either way: the proxy ends the connection once Timeouts.UpstreamResponse has passed.
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ReceiveAsync(new byte[64], Token).WaitAsync(Timeout, Token));
        }

        var line = await SingleLineAsync(proxy);
        Assert.Equal(101, line.GetProperty("status").GetInt32());
        Assert.Equal("ERR_UPSTREAM_TIMEOUT", line.GetProperty("error").GetString());
    }

    private static void AssertClosedNormally(JsonElement line, CountedStream counted)
    {
        Assert.Equal("TCP_MISS/101", line.GetProperty("result").GetString());
        Assert.Equal(JsonValueKind.Null, line.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Null, line.GetProperty("detail").ValueKind);
        Assert.True(counted.BytesWritten > 0 && counted.BytesRead > 0);
        Assert.Equal(counted.BytesWritten, line.GetProperty("bytes_up").GetInt64());
        Assert.Equal(counted.BytesRead, line.GetProperty("bytes_down").GetInt64());
    }

    private static Task<ProxyServer> StartProxyAsync(int port, string? upstreamResponse = null) =>
        ProxyServer.StartAsync(
            ProxyServer.Config(ProxyServer.AllowAll(port), customize: p =>
            {
                p["AccessLog"] = new JsonObject { ["Format"] = "json" };
                if (upstreamResponse is not null)
                {
                    p["Timeouts"]!["UpstreamResponse"] = upstreamResponse;
                }
            }),
            new TestNetwork());

    /// <summary>
    /// Asks for a WebSocket through the proxy in absolute form and reads the 101; returns the connection, counting
    /// the bytes that go each way from then on.
    /// </summary>
    private static async Task<CountedStream> UpgradeAsync(RawClient raw, int port, string path)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await raw.SendAsync($"GET http://www.example.com:{port}{path} HTTP/1.1\r\nHost: www.example.com:{port}\r\nConnection: Upgrade\r\n"
            + $"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n");
        var head = await raw.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 101 ", head, StringComparison.Ordinal);
        return new CountedStream(raw.Stream);
    }

    private static WebSocket ClientOver(Stream stream) =>
        WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });

    private static async Task<string> ReceiveTextAsync(WebSocket socket)
    {
        var buffer = new byte[256];
        var result = await socket.ReceiveAsync(buffer, Token).WaitAsync(Timeout, Token);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    /// <summary>The server side of the opening handshake (RFC 6455 §4.2.2), for an origin that then misbehaves.</summary>
    private static async Task AcceptUpgradeAsync(NetworkStream stream, CancellationToken token)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one, token) == 1)
        {
            head.Append((char)one[0]);
        }

        var key = head.ToString().Split("\r\n").Select(l => l.Split(':', 2))
            .First(p => p[0].Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase))[1].Trim();
#pragma warning disable CA5350 // RFC 6455 §4.2.2 defines Sec-WebSocket-Accept with SHA-1.
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"), token);
    }

    private static async Task<JsonElement> SingleLineAsync(ProxyServer proxy)
    {
        await proxy.AccessLogLinesAsync(1);
        // Give a second line, were one written, the time to arrive.
        await Task.Delay(300, Token);
        var lines = await proxy.AccessLogLinesAsync(1);
        return JsonDocument.Parse(Assert.Single(lines)).RootElement.Clone();
    }
}
