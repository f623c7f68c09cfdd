using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EgressLab.Provisioner.Lab;

namespace EgressLab.Provisioner.Tests.Lab;

/// <summary>The origin's /upload, in a real nginx: no answer until the whole body is in, then 200 ok.</summary>
public sealed class NginxUploadEndpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("egress-upload-origin-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Upload_AnswersOnlyOnceTheWholeBodyIsRead()
    {
        var nginx = Requirements.FindOnPath("nginx");
        Requirements.SkipUnless(nginx is not null, "nginx is not installed (.ci/run installs it)");
        var port = FreePort();
        foreach (var temp in new[] { "body", "proxy", "fastcgi", "uwsgi", "scgi" })
        {
            Directory.CreateDirectory(Path.Combine(_directory, temp));
        }

        var config = Path.Combine(_directory, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            daemon off;
            master_process off;
            pid {{_directory}}/nginx.pid;
            error_log {{_directory}}/error.log warn;
            events { worker_connections 64; }
            http {
              access_log off;
              client_body_temp_path {{_directory}}/body;
              proxy_temp_path {{_directory}}/proxy;
              fastcgi_temp_path {{_directory}}/fastcgi;
              uwsgi_temp_path {{_directory}}/uwsgi;
              scgi_temp_path {{_directory}}/scgi;
            {{NginxUploadEndpoint.HttpBlock(Path.Combine(_directory, "upload.sock"))}}
              server {
                listen 127.0.0.1:{{port}};
            {{NginxUploadEndpoint.Location("    ")}}
              }
            }

            """, TestContext.Current.CancellationToken);
        using var server = Process.Start(new ProcessStartInfo(nginx!, ["-e", Path.Combine(_directory, "error.log"), "-c", config])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        try
        {
            using var client = await ConnectAsync(port, server);
            var stream = client.GetStream();
            const int size = 1 << 20;
            var body = new byte[size];
            await stream.WriteAsync(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"POST /upload HTTP/1.1\r\nHost: origin.example\r\nContent-Length: {size}\r\n\r\n")), TestContext.Current.CancellationToken);
            await stream.WriteAsync(body.AsMemory(0, size / 2), TestContext.Current.CancellationToken);

            // Half the body is in: nothing may come back (nginx's plain `return` would have answered already).
            var buffer = new byte[4096];
            var early = stream.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask();
            Assert.NotSame(early, await Task.WhenAny(early, Task.Delay(TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken)));

            await stream.WriteAsync(body.AsMemory(size / 2), TestContext.Current.CancellationToken);
            var response = new StringBuilder();
            var read = await early.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            response.Append(Encoding.ASCII.GetString(buffer, 0, read));
            while (!response.ToString().EndsWith("ok\n", StringComparison.Ordinal) && read > 0)
            {
                read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
                response.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            Assert.StartsWith("HTTP/1.1 200", response.ToString(), StringComparison.Ordinal);
            Assert.EndsWith("\r\n\r\nok\n", response.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    private static async Task<TcpClient> ConnectAsync(int port, Process server)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
                return client;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10) && !server.HasExited)
            {
                client.Dispose();
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
        }
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
