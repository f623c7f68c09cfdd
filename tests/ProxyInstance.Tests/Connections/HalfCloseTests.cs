using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Connections;

/// <summary>
/// A client that sends a complete request and then half-closes (<c>shutdown(SHUT_WR)</c>, as <c>nc -N</c> does) still
/// gets its answer and a log line (RFC 9112 §9.6), on both paths, allowed or denied. A reset still ends the request.
/// </summary>
public sealed class HalfCloseTests
{
    // Each case is sent this many times: the FIN races the answer, so one lucky exchange proves little.
    private const int Rounds = 10;

    public static TheoryData<string, string> Requests => new()
    {
        { "CONNECT denied.example.net:443 HTTP/1.1\r\nHost: denied.example.net:443\r\n\r\n", "HTTP/1.1 403 Forbidden" },
        { "CONNECT www.example.com:{port} HTTP/1.1\r\nHost: www.example.com:{port}\r\n\r\n", "HTTP/1.1 200 Connection established" },
        { "GET http://denied.example.net/ HTTP/1.1\r\nHost: denied.example.net\r\n\r\n", "HTTP/1.1 403 Forbidden" },
        { "GET http://www.example.com:{port}/half HTTP/1.1\r\nHost: www.example.com:{port}\r\n\r\n", "HTTP/1.1 200 OK" },
        { "GET http://www.example.com:{port}/half HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK" },
        { "POST http://www.example.com:{port}/half HTTP/1.1\r\nHost: www.example.com:{port}\r\nContent-Length: 5\r\n\r\nhello", "HTTP/1.1 200 OK" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Request_ClientHalfClosesAfterSending_IsAnsweredAndLogged(string request, string statusLine)
    {
        await using var origin = await OriginServer.StartAsync();
        var policy = new JsonObject
        {
            ["Rules"] = new JsonArray(new JsonObject { ["Name"] = "example", ["Action"] = "Allow", ["Domains"] = new JsonArray("www.example.com"), ["Ports"] = new JsonArray(origin.Port) }),
        };
        var config = ProxyServer.Config(policy, customize: p => p["AccessLog"] = new JsonObject { ["Format"] = "json" });
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());
        var text = request.Replace("{port}", origin.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var status = int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

        for (var round = 0; round < Rounds; round++)
        {
            await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
            await raw.SendAsync(text);
            raw.Client.Client.Shutdown(SocketShutdown.Send);

            var received = Encoding.ASCII.GetString(await raw.ReadToEndAsync());
            Assert.True(received.StartsWith(statusLine + "\r\n", StringComparison.Ordinal), $"round {round}: got '{received}'");
        }

        var lines = await proxy.AccessLogLinesAsync(Rounds);
        Assert.Equal(Rounds, lines.Length);
        foreach (var line in lines)
        {
            var entry = JsonDocument.Parse(line).RootElement;
            Assert.Equal(status, entry.GetProperty("status").GetInt32());
            Assert.True(entry.GetProperty("bytes_down").GetInt64() > 0, line);
        }
    }
}
