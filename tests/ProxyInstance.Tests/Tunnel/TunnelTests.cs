using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.Forwarding;
using EgressLab.ProxyInstance.Tests.Metrics;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Tunnel;

public sealed class TunnelTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static JsonObject Policy(int port, string? sni = null)
    {
        var policy = ProxyServer.AllowAll(port);
        if (sni is not null)
        {
            policy["RequireSniMatch"] = sni;
        }

        return policy;
    }

    [Fact]
    public async Task HttpsGet_ThroughConnect_ReachesTlsOriginAndLogsTunnel()
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com", "127.0.0.1"]);
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy(origin.TlsPort)), new TestNetwork());
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync($"https://www.example.com:{origin.TlsPort}/secure", Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("GET /secure from origin", await response.Content.ReadAsStringAsync(Token));
        client.Dispose();
        var line = Assert.Single(await proxy.AccessLogLinesAsync(1));
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("TCP_TUNNEL/200", fields[3]);
        Assert.Equal("CONNECT", fields[5]);
        Assert.Equal($"www.example.com:{origin.TlsPort}", fields[6]);
        Assert.True(long.Parse(fields[4], System.Globalization.CultureInfo.InvariantCulture) > 1000, "bytes sent to the client are counted");
    }

    /// <summary>The client here is on the proxy's host (loopback), so <c>Auto</c>, the default, copies.</summary>
    [Theory]
    [InlineData("On", true)]
    [InlineData("Off", false)]
    [InlineData(null, false)]
    public async Task HttpsDownload_SpliceTunnels_DecidesWhetherTheBytesAreSpliced(string? setting, bool splice)
    {
        Requirements.SkipUnless(!splice || OperatingSystem.IsLinux(), "splice(2) is Linux's");
        const int Size = 8 * 1024 * 1024;
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com", "127.0.0.1"]);
        var config = ProxyServer.Config(Policy(origin.TlsPort), customize: proxy =>
        {
            if (setting is not null)
            {
                proxy["SpliceTunnels"] = setting;
            }
        });
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());
        using (var client = proxy.CreateClient())
        {
            var body = await client.GetByteArrayAsync($"https://www.example.com:{origin.TlsPort}/bytes/{Size}", Token);
            Assert.Equal(Size, body.Length);
        }

        using var admin = new HttpClient();
        PrometheusText text;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            // A tunnel's bytes are counted when it closes, just after its client is disposed.
            await Task.Delay(50, Token);
            text = PrometheusText.Parse(await admin.GetStringAsync($"http://{proxy.AdminEndPoint}/metrics", Token));
        }
        while (text.Value("proxy_active_tunnels") != 0 && DateTime.UtcNow < deadline);

        Assert.True(text.Value("proxy_bytes_down_total") > Size);
        if (splice)
        {
            // Each burst starts with one copied read, and how many bursts there are depends on how fast the client
            // reads: 3.5 to 6.3 MB of the 8 MiB went through the pipe in seven runs.
            Assert.True(text.Value("proxy_bytes_spliced_total") > Size / 8, $"only {text.Value("proxy_bytes_spliced_total"):N0} bytes were spliced");
        }
        else
        {
            Assert.Equal(0, text.Value("proxy_bytes_spliced_total"));
        }
    }

    [Fact]
    public async Task Connect_Denied_Returns403BeforeAnyTunnel()
    {
        var network = new TestNetwork();
        var policy = new JsonObject { ["Rules"] = new JsonArray(new JsonObject { ["Name"] = "aws", ["Action"] = "Allow", ["Domains"] = new JsonArray(".amazonaws.com") }) };
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy), network);
        var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, "CONNECT denied.example.net:443 HTTP/1.1\r\nHost: denied.example.net:443\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", response, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_ACCESS_DENIED\r\n", response, StringComparison.Ordinal);
        Assert.Contains("denied.example.net:443", response, StringComparison.Ordinal);
        Assert.DoesNotContain(" 200 ", response, StringComparison.Ordinal);
        Assert.Empty(network.Lookups);
        Assert.Empty(network.Dialled);
    }

    [Fact]
    public async Task Connect_RefusedPort_Returns502NotA200()
    {
        var port = PlainHttpTests.UnusedPort();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy(port)), new TestNetwork());
        var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, $"CONNECT www.example.com:{port} HTTP/1.1\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 502 Bad Gateway\r\n", response, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_CONNECT_FAIL", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_UnknownName_Returns502DnsFailure()
    {
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy(443)), new TestNetwork());
        var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, "CONNECT nowhere.example.com:443 HTTP/1.1\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 502 Bad Gateway\r\n", response, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_DNS_FAIL", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_OriginNeverAccepts_Returns504()
    {
        using var blackHole = BlackHoleListener.Start();
        var config = ProxyServer.Config(Policy(blackHole.Port), customize: p => p["Timeouts"]!["Connect"] = "00:00:01");
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());
        var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, $"CONNECT www.example.com:{blackHole.Port} HTTP/1.1\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 504 Gateway Timeout\r\n", response, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_CONNECT_TIMEOUT", response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CONNECT www.example.com HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT www.example.com:0 HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT www.example.com:65536 HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT ::1:443 HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT user@www.example.com:443 HTTP/1.1\r\n\r\n")]
    public async Task Connect_MalformedAuthority_Returns400(string request)
    {
        var network = new TestNetwork();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy(443)), network);
        var response = await RawClient.ExchangeAsync(proxy.ProxyEndPoint, request);

        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", response, StringComparison.Ordinal);
        Assert.Empty(network.Dialled);
    }

    [Fact]
    public async Task Tunnel_ClientHalfCloses_ResponseStillArrives()
    {
        await using var origin = await RawOrigin.StartAsync(async (stream, token) =>
        {
            // Read until the client's FIN, then answer: works only if the proxy passes the half-close on.
            using var received = new MemoryStream();
            await stream.CopyToAsync(received, token);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"received {received.Length}"), token);
        });
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy(origin.Port, sni: "Off")), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        await raw.SendAsync(new byte[100_000]);
        raw.Client.Client.Shutdown(SocketShutdown.Send);

        Assert.Equal("received 100000", Encoding.ASCII.GetString(await raw.ReadToEndAsync()));
    }

    [Fact]
    public async Task Tunnel_OriginHalfCloses_ClientCanStillSend()
    {
        var originGot = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = await RawOrigin.StartAsync(async (stream, token) =>
        {
            await stream.WriteAsync("greeting"u8.ToArray(), token);
            stream.Socket.Shutdown(SocketShutdown.Send);
            using var received = new MemoryStream();
            await stream.CopyToAsync(received, token);
            originGot.TrySetResult(Encoding.ASCII.GetString(received.ToArray()));
        });
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy(origin.Port, sni: "Off")), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        Assert.Equal("greeting", Encoding.ASCII.GetString(await raw.ReadToEndAsync()));
        await raw.SendAsync("after the origin's FIN");
        raw.Client.Client.Shutdown(SocketShutdown.Send);

        Assert.Equal("after the origin's FIN", await originGot.Task.WaitAsync(TimeSpan.FromSeconds(20), Token));
    }

    [Fact]
    public async Task Tunnel_BytesPipelinedAfterTheHead_AreRelayed()
    {
        await using var origin = await RawOrigin.StartAsync(async (stream, token) =>
        {
            var buffer = new byte[5];
            await stream.ReadExactlyAsync(buffer, token);
            await stream.WriteAsync(buffer, token);
        });
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy(origin.Port, sni: "Off")), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\nhello");

        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        Assert.Equal("hello", Encoding.ASCII.GetString(await raw.ReadExactlyAsync(5)));
    }

    [Fact]
    public async Task Tunnel_Idle_IsClosedAfterIdleTimeout()
    {
        await using var origin = await RawOrigin.StartAsync(async (stream, token) =>
        {
            using var received = new MemoryStream();
            await stream.CopyToAsync(received, token);
        });
        var config = ProxyServer.Config(Policy(origin.Port, sni: "Off"), customize: p => p["Timeouts"]!["TunnelIdle"] = "00:00:01");
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        var started = DateTime.UtcNow;
        Assert.Empty(await raw.ReadToEndAsync());

        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(800), "closed before the idle timeout");
        var line = Assert.Single(await proxy.AccessLogLinesAsync(1));
        Assert.Contains("TCP_TUNNEL/200", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tunnel_SniNamesAnotherServer_IsClosedLoggedAndCounted()
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com", "evil.example.net"]);
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy(origin.TlsPort)), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync($"CONNECT www.example.com:{origin.TlsPort} HTTP/1.1\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        var handshake = TlsHandshakeAsync(raw.Stream, "evil.example.net");

        await Assert.ThrowsAnyAsync<Exception>(() => handshake);
        var line = Assert.Single(await proxy.AccessLogLinesAsync(1));
        // The client got the 200 and then the close, nothing else: that is what the line says.
        Assert.Contains("TCP_DENIED/200 39 ", line, StringComparison.Ordinal);
        Assert.EndsWith("ERR_SNI_MISMATCH", line, StringComparison.Ordinal);
        using var admin = new HttpClient();
        var metrics = await admin.GetStringAsync($"http://{proxy.AdminEndPoint}/metrics", Token);
        Assert.Matches(@"(?m)^proxy_sni_mismatch_total(\{\})? 1$", metrics);
        Assert.Matches(@"(?m)^proxy_errors_total\{code=""ERR_SNI_MISMATCH""\} 1$", metrics);
    }

    [Fact]
    public async Task Tunnel_NoSniForName_ClosedUnderRequireAllowedUnderAllowMissing()
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com", "127.0.0.1"]);
        foreach (var (mode, allowed) in new[] { ("Require", false), ("AllowMissing", true) })
        {
            await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy(origin.TlsPort, sni: mode)), new TestNetwork());
            await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
            await raw.SendAsync($"CONNECT www.example.com:{origin.TlsPort} HTTP/1.1\r\n\r\n");
            Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());

            // An IP-literal target host makes the TLS client send no SNI at all.
            var handshake = TlsHandshakeAsync(raw.Stream, "127.0.0.1");
            if (allowed)
            {
                await handshake;
            }
            else
            {
                await Assert.ThrowsAnyAsync<Exception>(() => handshake);
            }
        }
    }

    [Fact]
    public async Task Tunnel_ToIpLiteralWithoutSni_IsAllowedUnderRequire()
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["127.0.0.1"]);
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy(origin.TlsPort)), new TestNetwork());
        using var client = proxy.CreateClient();

        using var response = await client.GetAsync($"https://127.0.0.1:{origin.TlsPort}/ip", Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    internal static async Task TlsHandshakeAsync(Stream stream, string targetHost)
    {
        var tls = new SslStream(stream, leaveInnerStreamOpen: true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                TestCertificates.Validate(certificate as System.Security.Cryptography.X509Certificates.X509Certificate2),
        }, Token).WaitAsync(TimeSpan.FromSeconds(20), Token);
    }
}

/// <summary>A raw TCP origin on loopback that runs <c>handler</c> for each connection.</summary>
internal sealed class RawOrigin : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private RawOrigin(TcpListener listener, Func<NetworkStream, CancellationToken, Task> handler)
    {
        _listener = listener;
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    // Stopped: the listener's accept fails once it is closed.
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using var stream = new NetworkStream(socket, ownsSocket: true);
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                    timeout.CancelAfter(TimeSpan.FromSeconds(30));
                    try
                    {
                        await handler(stream, timeout.Token);
                    }
                    catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
                    {
                    }
                });
            }
        });
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static Task<RawOrigin> StartAsync(Func<NetworkStream, CancellationToken, Task> handler)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return Task.FromResult(new RawOrigin(listener, handler));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop.WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
