using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EgressLab.LoadTests.Bench;
using EgressLab.LoadTests.Compare;
using EgressLab.Provisioner.Lab;

namespace EgressLab.LoadTests.Tests.Compare;

/// <summary>
/// The Squid the bench and compare measure against must carry an upload whole whatever pace its origin reads at: with
/// Squid's default request buffer, Squid before 6.11 drops an upload when the buffer is full and the origin then takes a
/// few bytes (see <see cref="IncumbentProxy.SquidRequestBufferMegabytes"/>).
/// </summary>
public sealed class SquidUploadTests : IDisposable
{
    private const int BodyBytes = 8 * 1024 * 1024;
    private readonly string _directory = Directory.CreateTempSubdirectory("squid-upload-").FullName;

    [Fact]
    public async Task SquidRunDirectives_UploadToAnOriginThatReadsInFits_ArrivesWhole()
    {
        var squid = LabPrerequisites.FindOnPath("squid");
        Requirements.SkipUnless(squid is not null, "squid is not installed (.ci/run installs it)");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        using var origin = new TcpListener(IPAddress.Loopback, 0);
        origin.Start();
        var originPort = ((IPEndPoint)origin.LocalEndpoint).Port;
        var received = ServeOneUploadInFitsAsync(origin, timeout.Token);

        var squidPort = FreePort();
        var config = Path.Combine(_directory, "squid.conf");
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
            http_port 127.0.0.1:{squidPort}
            http_access allow localhost
            http_access deny all
            {IncumbentProxy.SquidRunDirectives(_directory)}
            """), timeout.Token);

        // Squid started as root runs as its own user, which must write its logs here.
        File.SetUnixFileMode(_directory, (UnixFileMode)0x1FF);
        using var server = BenchProcess.Start("squid", squid!, ["-N", "-f", config], Path.Combine(_directory, "squid.out"));
        await server.WaitReadyAsync(ct => ListensAsync(squidPort, ct), TimeSpan.FromSeconds(30), timeout.Token);

        using var handler = new SocketsHttpHandler { Proxy = new WebProxy($"http://127.0.0.1:{squidPort}"), UseProxy = true };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(45) };
        var body = new byte[BodyBytes];
        Random.Shared.NextBytes(body);
        HttpResponseMessage response;
        try
        {
            response = await client.PostAsync(new Uri($"http://127.0.0.1:{originPort}/upload"), new ByteArrayContent(body), timeout.Token);
        }
        catch (HttpRequestException exception)
        {
            var log = File.Exists(Path.Combine(_directory, "access.log")) ? await File.ReadAllTextAsync(Path.Combine(_directory, "access.log"), CancellationToken.None) : "";
            throw new Xunit.Sdk.XunitException($"Squid dropped the upload ({exception.Message}); its access log:\n{log}");
        }

        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("ok", await response.Content.ReadAsStringAsync(timeout.Token));
        }

        Assert.Equal(BodyBytes, await received);
    }

    /// <summary>
    /// Answers one request once it has read the whole body, reading it as a slow origin does: a pause long enough for
    /// Squid's buffer to fill, then a few kilobytes at a time with pauses between, then the rest at once.
    /// </summary>
    private static async Task<long> ServeOneUploadInFitsAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        using var connection = await listener.AcceptSocketAsync(cancellationToken);
        var buffer = new byte[64 * 1024];
        var head = new StringBuilder();
        var bodyStart = -1;
        var filled = 0;
        while (bodyStart < 0)
        {
            var read = await connection.ReceiveAsync(buffer.AsMemory(filled), cancellationToken);
            Assert.True(read > 0, "the proxy closed before the request head was whole");
            filled += read;
            var text = Encoding.Latin1.GetString(buffer, 0, filled);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                head.Append(text, 0, end);
                bodyStart = end + 4;
            }
        }

        var length = long.Parse(
            head.ToString().Split("\r\n").Single(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))["Content-Length:".Length..].Trim(),
            CultureInfo.InvariantCulture);
        long body = filled - bodyStart;
        for (var fit = 0; fit < 10 && body < length; fit++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(300), cancellationToken);
            for (var sip = 0; sip < 4 && body < length; sip++)
            {
                body += await ReceiveSomeAsync(connection, buffer.AsMemory(0, (int)Math.Min(1024 << sip, length - body)), cancellationToken);
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            }
        }

        while (body < length)
        {
            body += await ReceiveSomeAsync(connection, buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - body)), cancellationToken);
        }

        await connection.SendAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray(), cancellationToken);
        connection.Shutdown(SocketShutdown.Send);
        return body;
    }

    private static async Task<int> ReceiveSomeAsync(Socket connection, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = await connection.ReceiveAsync(buffer, cancellationToken);
        Assert.True(read > 0, "the proxy closed its connection to the origin before the body was whole");
        return read;
    }

    private static async Task<bool> ListensAsync(int port, CancellationToken cancellationToken)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
