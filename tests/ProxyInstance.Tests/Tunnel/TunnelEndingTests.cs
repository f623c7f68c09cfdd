using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EgressLab.ProxyInstance.Tests.Tunnel;

/// <summary>
/// However a tunnel ends, on a connection of its own or on one that carried plain requests first (which is taken
/// over from Kestrel), it gets exactly one access log line with what the client got, and nothing escapes to Kestrel
/// as an unhandled exception.
/// </summary>
public sealed class TunnelEndingTests
{
    private const int EstablishedLength = 39; // "HTTP/1.1 200 Connection established\r\n\r\n"

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public enum Ending
    {
        /// <summary>The origin answers a request with Connection: close and closes first.</summary>
        OriginCloses,

        /// <summary>The client sends close_notify and FIN after its answer, then reads until the proxy closes.</summary>
        ClientCloses,

        /// <summary>The client resets the connection after its answer.</summary>
        ClientResets,

        /// <summary>The ClientHello names another server: the proxy refuses the tunnel after its 200.</summary>
        SniRefused,
    }

    public static TheoryData<bool, Ending> Endings()
    {
        var data = new TheoryData<bool, Ending>();
        foreach (var afterPlainRequest in new[] { true, false })
        {
            foreach (var ending in Enum.GetValues<Ending>())
            {
                data.Add(afterPlainRequest, ending);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Endings))]
    public async Task TlsTunnel_Ends_OneLineWithWhatTheClientGotAndNoUnhandledException(bool afterPlainRequest, Ending ending)
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com"]);
        var logs = new OperationalLog();
        JsonElement tunnel;
        CountedStream counted;
        await using (var proxy = await StartProxyAsync("Require", logs, origin.Port, origin.TlsPort))
        {
            await using (var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint))
            {
                counted = await OpenTunnelAsync(raw, afterPlainRequest ? origin.Port : null, origin.TlsPort);
                await using var tls = new SslStream(counted, leaveInnerStreamOpen: true);
                var targetHost = ending == Ending.SniRefused ? "other.example.com" : "www.example.com";
                var handshake = tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = targetHost,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificates.Validate(certificate as X509Certificate2),
                }, Token).WaitAsync(RawClient.Timeout, Token);
                if (ending == Ending.SniRefused)
                {
                    await Assert.ThrowsAnyAsync<IOException>(() => handshake);
                }
                else
                {
                    await handshake;
                    await ExchangeAsync(tls, ending, raw, counted);
                }
            }

            tunnel = await TunnelLineAsync(proxy, afterPlainRequest);
        }

        // Stopped: every connection has ended, so whatever Kestrel had to say about them is logged.
        Assert.Empty(logs.KestrelErrors);
        if (ending == Ending.SniRefused)
        {
            // The client got the 200 and then the close.
            Assert.Equal("TCP_DENIED/200", tunnel.GetProperty("result").GetString());
            Assert.Equal(39, tunnel.GetProperty("bytes_down").GetInt64());
            Assert.Equal("ERR_SNI_MISMATCH", tunnel.GetProperty("error").GetString());
            Assert.Equal("other.example.com", tunnel.GetProperty("sni").GetString());
            return;
        }

        Assert.Equal("TCP_TUNNEL/200", tunnel.GetProperty("result").GetString());
        Assert.Equal(JsonValueKind.Null, tunnel.GetProperty("error").ValueKind);
        Assert.Equal("www.example.com", tunnel.GetProperty("sni").GetString());
        if (ending == Ending.ClientResets)
        {
            // The reset may overtake bytes in flight either way; only their order of magnitude is known.
            Assert.True(tunnel.GetProperty("bytes_down").GetInt64() > EstablishedLength);
            return;
        }

        Assert.Equal(JsonValueKind.Null, tunnel.GetProperty("detail").ValueKind);
        Assert.Equal(counted.BytesWritten, tunnel.GetProperty("bytes_up").GetInt64());
        Assert.Equal(counted.BytesRead + EstablishedLength, tunnel.GetProperty("bytes_down").GetInt64());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Tunnel_OriginSendsAndClosesBeforeTheClientSendsAnything_OneLineAndNoUnhandledException(bool afterPlainRequest)
    {
        await using var origin = await OriginServer.StartAsync();
        await using var goodbye = await RawOrigin.StartAsync(async (stream, token) => await stream.WriteAsync("goodbye"u8.ToArray(), token));
        var logs = new OperationalLog();
        JsonElement tunnel;
        await using (var proxy = await StartProxyAsync("Off", logs, origin.Port, goodbye.Port))
        {
            await using (var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint))
            {
                var counted = await OpenTunnelAsync(raw, afterPlainRequest ? origin.Port : null, goodbye.Port);
                await counted.ReadToEndAsync(Token);
                Assert.Equal(7, counted.BytesRead);
            }

            tunnel = await TunnelLineAsync(proxy, afterPlainRequest);
        }

        Assert.Empty(logs.KestrelErrors);
        Assert.Equal("TCP_TUNNEL/200", tunnel.GetProperty("result").GetString());
        Assert.Equal(JsonValueKind.Null, tunnel.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Null, tunnel.GetProperty("detail").ValueKind);
        Assert.Equal(0, tunnel.GetProperty("bytes_up").GetInt64());
        Assert.Equal(7 + EstablishedLength, tunnel.GetProperty("bytes_down").GetInt64());
    }

    private static Task<ProxyServer> StartProxyAsync(string sni, OperationalLog logs, params int[] ports)
    {
        var policy = ProxyServer.AllowAll(ports[0], ports[1..]);
        policy["RequireSniMatch"] = sni;
        return ProxyServer.StartAsync(
            ProxyServer.Config(policy, customize: p => p["AccessLog"] = new JsonObject { ["Format"] = "json" }),
            services =>
            {
                new TestNetwork().Register(services);
                services.AddSingleton<ILoggerProvider>(logs);
            });
    }

    /// <summary>
    /// Sends a plain request first when <paramref name="plainPort"/> is given, so that the CONNECT is handed over from
    /// Kestrel, then the CONNECT; returns the tunnel, counting from the first byte after the 200.
    /// </summary>
    private static async Task<CountedStream> OpenTunnelAsync(RawClient raw, int? plainPort, int tunnelPort)
    {
        if (plainPort is { } port)
        {
            await raw.SendAsync($"GET http://www.example.com:{port}/first HTTP/1.1\r\nHost: www.example.com:{port}\r\n\r\n");
            Assert.Equal("GET /first from origin", await raw.ReadBodyAsync(await raw.ReadHeadAsync()));
        }

        await raw.SendAsync($"CONNECT www.example.com:{tunnelPort} HTTP/1.1\r\nHost: www.example.com:{tunnelPort}\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        return new CountedStream(raw.Stream);
    }

    /// <summary>One request and its answer through the TLS session, then the tunnel ends as <paramref name="ending"/> says.</summary>
    private static async Task ExchangeAsync(SslStream tls, Ending ending, RawClient raw, CountedStream counted)
    {
        var close = ending == Ending.OriginCloses ? "Connection: close\r\n" : string.Empty;
        await tls.WriteAsync(Encoding.ASCII.GetBytes($"GET /secure HTTP/1.1\r\nHost: www.example.com\r\n{close}\r\n"), Token).AsTask().WaitAsync(RawClient.Timeout, Token);
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        while (!answer.ToString().EndsWith("0\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await tls.ReadAsync(buffer, Token).AsTask().WaitAsync(RawClient.Timeout, Token);
            Assert.NotEqual(0, read);
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        Assert.Contains("GET /secure from origin", answer.ToString(), StringComparison.Ordinal);
        switch (ending)
        {
            case Ending.OriginCloses:
                // The origin's close_notify and FIN, passed on: the proxy closes the connection after them.
                Assert.Equal(0, await tls.ReadAsync(buffer, Token).AsTask().WaitAsync(RawClient.Timeout, Token));
                await counted.ReadToEndAsync(Token);
                break;
            case Ending.ClientCloses:
                await tls.ShutdownAsync().WaitAsync(RawClient.Timeout, Token);
                raw.Client.Client.Shutdown(SocketShutdown.Send);
                await counted.ReadToEndAsync(Token);
                break;
            case Ending.ClientResets:
                raw.Client.Client.LingerState = new LingerOption(enable: true, seconds: 0);
                raw.Client.Client.Close();
                break;
        }
    }

    /// <summary>Waits for the tunnel's line, after the plain request's when there was one, and checks that no other came.</summary>
    private static async Task<JsonElement> TunnelLineAsync(ProxyServer proxy, bool afterPlainRequest)
    {
        var expected = afterPlainRequest ? 2 : 1;
        await proxy.AccessLogLinesAsync(expected);
        // Give a further line, were one written, the time to arrive.
        await Task.Delay(300, Token);
        var lines = await proxy.AccessLogLinesAsync(expected);
        Assert.Equal(expected, lines.Length);
        if (afterPlainRequest)
        {
            Assert.Equal("TCP_MISS/200", JsonDocument.Parse(lines[0]).RootElement.GetProperty("result").GetString());
        }

        using var tunnel = JsonDocument.Parse(lines[^1]);
        Assert.Equal("CONNECT", tunnel.RootElement.GetProperty("method").GetString());
        return tunnel.RootElement.Clone();
    }
}
