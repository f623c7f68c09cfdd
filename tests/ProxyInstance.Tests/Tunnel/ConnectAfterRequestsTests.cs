using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Tunnel;

/// <summary>
/// A CONNECT on a keep-alive connection that has already carried plain requests, which Kestrel parses: the
/// connection is taken over from Kestrel and becomes the tunnel, in order after the earlier responses.
/// </summary>
public sealed class ConnectAfterRequestsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static JsonObject Policy(string sni, params int[] ports)
    {
        var policy = ProxyServer.AllowAll(ports[0], ports[1..]);
        policy["RequireSniMatch"] = sni;
        return policy;
    }

    private static Task<RawOrigin> EchoOriginAsync() => RawOrigin.StartAsync(async (stream, token) =>
    {
        var buffer = new byte[1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, token)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), token);
        }
    });

    private static string Get(int port) => $"GET http://www.example.com:{port}/first HTTP/1.1\r\nHost: www.example.com:{port}\r\n\r\n";

    [Fact]
    public async Task Connect_AfterAPlainRequest_BecomesATunnelOnTheSameConnection()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var echo = await EchoOriginAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy("Off", origin.Port, echo.Port)), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        await raw.SendAsync(Get(origin.Port));
        var head = await raw.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", head, StringComparison.Ordinal);
        Assert.Equal("GET /first from origin", await raw.ReadBodyAsync(head));

        await raw.SendAsync($"CONNECT www.example.com:{echo.Port} HTTP/1.1\r\nHost: www.example.com:{echo.Port}\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        await raw.SendAsync("through the tunnel");
        Assert.Equal("through the tunnel", Encoding.ASCII.GetString(await raw.ReadExactlyAsync(18)));
        raw.Client.Client.Shutdown(SocketShutdown.Send);
        Assert.Empty(await raw.ReadToEndAsync());

        var lines = await proxy.AccessLogLinesAsync(2);
        Assert.Contains("TCP_MISS/200", lines[0], StringComparison.Ordinal);
        Assert.Contains("TCP_TUNNEL/200", lines[1], StringComparison.Ordinal);
        Assert.Contains($"CONNECT www.example.com:{echo.Port}", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_PipelinedBehindAPlainRequestWithTunnelBytes_AnswersInOrderAndRelaysTheBytes()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var echo = await EchoOriginAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy("Off", origin.Port, echo.Port)), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);

        // One write: a request, a CONNECT and the first tunnel bytes, which Kestrel must not take for a request.
        await raw.SendAsync(Get(origin.Port) + $"CONNECT www.example.com:{echo.Port} HTTP/1.1\r\nHost: www.example.com:{echo.Port}\r\n\r\npipelined");

        var head = await raw.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", head, StringComparison.Ordinal);
        Assert.Equal("GET /first from origin", await raw.ReadBodyAsync(head));
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        Assert.Equal("pipelined", Encoding.ASCII.GetString(await raw.ReadExactlyAsync(9)));
    }

    [Fact]
    public async Task Connect_AfterAPlainRequest_CarriesTlsWithTheSniChecked()
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com"]);
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy("Require", origin.Port, origin.TlsPort)), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        await raw.SendAsync(Get(origin.Port));
        var head = await raw.ReadHeadAsync();
        await raw.ReadBodyAsync(head);

        await raw.SendAsync($"CONNECT www.example.com:{origin.TlsPort} HTTP/1.1\r\nHost: www.example.com:{origin.TlsPort}\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        await using var tls = new SslStream(raw.Stream, leaveInnerStreamOpen: true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "www.example.com",
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                TestCertificates.Validate(certificate as System.Security.Cryptography.X509Certificates.X509Certificate2),
        }, Token).WaitAsync(TimeSpan.FromSeconds(20), Token);
        await tls.WriteAsync("GET /secure HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n"u8.ToArray(), Token);
        using var reader = new StreamReader(tls);
        var response = await reader.ReadToEndAsync(Token).WaitAsync(TimeSpan.FromSeconds(20), Token);

        Assert.StartsWith("HTTP/1.1 200 OK", response, StringComparison.Ordinal);
        Assert.Contains("GET /secure from origin", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_AfterAPlainRequest_OriginClosesFirst_ClientGetsTheLastBytesAndTheClose()
    {
        await using var origin = await OriginServer.StartAsync();
        await using var goodbye = await RawOrigin.StartAsync(async (stream, token) => await stream.WriteAsync("goodbye"u8.ToArray(), token));
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy("Off", origin.Port, goodbye.Port)), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        await raw.SendAsync(Get(origin.Port));
        await raw.ReadBodyAsync(await raw.ReadHeadAsync());

        await raw.SendAsync($"CONNECT www.example.com:{goodbye.Port} HTTP/1.1\r\nHost: www.example.com:{goodbye.Port}\r\n\r\n");

        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());
        Assert.Equal("goodbye", Encoding.ASCII.GetString(await raw.ReadToEndAsync()));
    }

    [Fact]
    public async Task Connect_AfterAPlainRequest_ClientHalfCloses_TheAnswerStillArrives()
    {
        await using var origin = await OriginServer.StartAsync();
        // Reads until the client's FIN, then answers with what it counted.
        await using var counter = await RawOrigin.StartAsync(async (stream, token) =>
        {
            using var received = new MemoryStream();
            await stream.CopyToAsync(received, token);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"got {received.Length}"), token);
        });
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(Policy("Off", origin.Port, counter.Port)), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        await raw.SendAsync(Get(origin.Port));
        await raw.ReadBodyAsync(await raw.ReadHeadAsync());
        await raw.SendAsync($"CONNECT www.example.com:{counter.Port} HTTP/1.1\r\nHost: www.example.com:{counter.Port}\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await raw.ReadHeadAsync());

        await raw.SendAsync("twelve bytes");
        raw.Client.Client.Shutdown(SocketShutdown.Send);

        Assert.Equal("got 12", Encoding.ASCII.GetString(await raw.ReadToEndAsync()));
    }

    public static TheoryData<string, string, bool> Refused => new()
    {
        // The last value: whether the proxy answers (with X-Proxy-Error) rather than Kestrel's own checks.
        { "CONNECT denied.example.net:443 HTTP/1.1\r\nHost: denied.example.net:443\r\n\r\n", "403 Forbidden", true },
        // Kestrel's own rule for any HTTP/1.1 request after the first (RFC 9112 §3.2).
        { "CONNECT www.example.com:{port} HTTP/1.1\r\n\r\n", "400 Bad Request", false },
        // With Host, so that these reach the proxy's own checks (Kestrel still refuses a Host it cannot parse).
        { "CONNECT www.example.com:{port} HTTP/1.1\r\nHost: www.example.com:{port}\r\nContent-Length: 5\r\n\r\nhello", "400 Bad Request", true },
        { "CONNECT www.example.com:{port} HTTP/1.1\r\nHost: www.example.com:{port}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400 Bad Request", true },
        { "CONNECT www.example.com:+{port} HTTP/1.1\r\nHost: www.example.com:+{port}\r\n\r\n", "400 Bad Request", false },
        { "CONNECT www.example.com:0 HTTP/1.1\r\nHost: www.example.com:0\r\n\r\n", "400 Bad Request", true },
        { "CONNECT user@www.example.com:{port} HTTP/1.1\r\nHost: www.example.com:{port}\r\n\r\n", "400 Bad Request", false },
        { "CONNECT www.example.com:{port} HTTP/1.1\r\nHost: www.example.com:{port}\r\nProxy-Authorization: Basic a\r\nProxy-Authorization: Basic b\r\n\r\n", "400 Bad Request", true },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Connect_AfterAPlainRequest_Refused_AnswersClosesAndDialsNothing(string connect, string status, bool proxyAnswers)
    {
        await using var origin = await OriginServer.StartAsync();
        await using var echo = await EchoOriginAsync();
        var network = new TestNetwork().Map("www.example.com", IPAddress.Loopback);
        var policy = new JsonObject
        {
            ["AllowedPrivateDestinations"] = new JsonArray("127.0.0.1/32"),
            ["RequireSniMatch"] = "Off",
            ["Rules"] = new JsonArray(new JsonObject
            {
                ["Name"] = "www",
                ["Action"] = "Allow",
                ["Domains"] = new JsonArray("www.example.com"),
                ["Ports"] = new JsonArray(origin.Port, echo.Port),
            }),
        };
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy, new Dictionary<string, string>()), network);
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        await raw.SendAsync(Get(origin.Port));
        await raw.ReadBodyAsync(await raw.ReadHeadAsync());
        var dialledBefore = network.Dialled.Count;

        await raw.SendAsync(connect.Replace("{port}", echo.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var rest = Encoding.ASCII.GetString(await raw.ReadToEndAsync());

        Assert.StartsWith($"HTTP/1.1 {status}\r\n", rest, StringComparison.Ordinal);
        Assert.DoesNotContain("Connection established", rest, StringComparison.Ordinal);
        Assert.Equal(proxyAnswers, rest.Contains("\r\nX-Proxy-Error: ", StringComparison.Ordinal));
        Assert.Equal(dialledBefore, network.Dialled.Count);
    }
}
