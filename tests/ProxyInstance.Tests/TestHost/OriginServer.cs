using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EgressLab.ProxyInstance.Tests.TestHost;

/// <summary>
/// A real HTTP (and optionally HTTPS) origin on loopback. It counts the TCP connections it accepts, so a test
/// can prove a denied request reached nothing, and records the headers of every request it served.
/// </summary>
internal sealed class OriginServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _connections;
    private int _completed;
    private int _failed;

    private OriginServer(WebApplication app) => _app = app;

    public int Port { get; private set; }
    public int TlsPort { get; private set; }
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Requests whose handler ran to the end: the whole request, body included, arrived.</summary>
    public int CompletedRequests => Volatile.Read(ref _completed);

    /// <summary>Requests whose handler failed, such as on a body that was cut short or malformed.</summary>
    public int FailedRequests => Volatile.Read(ref _failed);
    public ConcurrentQueue<IHeaderDictionary> RequestHeaders { get; } = new();
    public ConcurrentQueue<string> RequestTargets { get; } = new();

    /// <summary>The directory /files/ serves, read-only (e.g. a bare git repository for git's dumb HTTP); none when null.</summary>
    public string? FilesRoot { get; set; }

    /// <summary>Released by a test to let /drip finish its response.</summary>
    public TaskCompletionSource DripGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completed by /trickle-in once the first bytes of the request body have arrived.</summary>
    public TaskCompletionSource FirstBodyBytes { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<OriginServer> StartAsync(IPAddress? address = null, bool tls = false, params string[] tlsNames)
    {
        address ??= IPAddress.Loopback;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        OriginServer? origin = null;
        var certificate = tls ? TestCertificates.CreateServer(tlsNames.Length > 0 ? tlsNames : ["www.example.com"]) : null;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.Listen(address, 0, l =>
            {
                l.Protocols = HttpProtocols.Http1;
                l.Use(next => ctx => { Interlocked.Increment(ref origin!._connections); return next(ctx); });
            });
            if (certificate is not null)
            {
                k.Listen(address, 0, l =>
                {
                    l.Protocols = HttpProtocols.Http1;
                    l.Use(next => ctx => { Interlocked.Increment(ref origin!._connections); return next(ctx); });
                    l.UseHttps(certificate);
                });
            }
        });
        var app = builder.Build();
        origin = new OriginServer(app);
        app.UseWebSockets();
        app.Run(origin.HandleCountedAsync);
        await app.StartAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30));
        var addresses = app.Urls.Select(u => new Uri(u)).ToList();
        origin.Port = addresses.First(u => u.Scheme == "http").Port;
        origin.TlsPort = addresses.FirstOrDefault(u => u.Scheme == "https")?.Port ?? 0;
        return origin;
    }

    private async Task HandleCountedAsync(HttpContext context)
    {
        var completed = false;
        try
        {
            await HandleAsync(context);
            completed = true;
        }
        finally
        {
            Interlocked.Increment(ref completed ? ref _completed : ref _failed);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var copy = new HeaderDictionary();
        foreach (var header in request.Headers)
        {
            copy[header.Key] = header.Value;
        }

        RequestHeaders.Enqueue(copy);
        RequestTargets.Enqueue(context.Features.Get<IHttpRequestFeature>()!.RawTarget);
        var path = request.Path.Value ?? "/";
        var token = context.RequestAborted;
        if (path == "/headers")
        {
            context.Response.ContentType = "application/json";
            var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            await context.Response.WriteAsync(JsonSerializer.Serialize(headers), token);
        }
        else if (path.StartsWith("/bytes/", StringComparison.Ordinal))
        {
            // /bytes/N: N bytes of a repeating pattern, with Content-Length.
            var size = long.Parse(path["/bytes/".Length..], System.Globalization.CultureInfo.InvariantCulture);
            context.Response.ContentLength = size;
            context.Response.ContentType = "application/octet-stream";
            await WritePatternAsync(context.Response.Body, size, token);
        }
        else if (path.StartsWith("/chunked/", StringComparison.Ordinal))
        {
            // /chunked/N: N bytes without Content-Length, so Kestrel sends them chunked.
            var size = long.Parse(path["/chunked/".Length..], System.Globalization.CultureInfo.InvariantCulture);
            context.Response.ContentType = "application/octet-stream";
            await WritePatternAsync(context.Response.Body, size, token);
        }
        else if (path == "/upload")
        {
            // Counts and checksums the body as it streams in.
            var buffer = new byte[64 * 1024];
            long total = 0;
            long sum = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer, token)) > 0)
            {
                for (var i = 0; i < read; i++)
                {
                    sum += buffer[i];
                }

                total += read;
            }

            await context.Response.WriteAsync($"{request.Method} {total} {sum}", token);
        }
        else if (path == "/sha256")
        {
            // Reads the whole body and answers "LENGTH SHA256HEX", so a client's upload can be checked byte for byte.
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer, token)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                total += read;
            }

            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync($"{total} {Convert.ToHexStringLower(hash.GetHashAndReset())}", token);
        }
        else if (path.StartsWith("/files/", StringComparison.Ordinal) && FilesRoot is { } root)
        {
            await ServeFileAsync(context, root, path["/files/".Length..], token);
        }
        else if (path.StartsWith("/slow/", StringComparison.Ordinal))
        {
            // /slow/MS: answers after MS milliseconds, to hold a request in flight.
            await Task.Delay(int.Parse(path["/slow/".Length..], System.Globalization.CultureInfo.InvariantCulture), token);
            await context.Response.WriteAsync("slow done", token);
        }
        else if (path == "/drip")
        {
            // Sends a first part, then holds the response open until the test releases it.
            await context.Response.WriteAsync("first", token);
            await context.Response.Body.FlushAsync(token);
            await DripGate.Task.WaitAsync(TimeSpan.FromSeconds(30), token);
            await context.Response.WriteAsync("-last", token);
        }
        else if (path == "/trickle-in")
        {
            // Signals as soon as the first body bytes arrive, then reads the rest.
            var buffer = new byte[5];
            await request.Body.ReadExactlyAsync(buffer, token);
            FirstBodyBytes.TrySetResult();
            using var rest = new MemoryStream();
            await request.Body.CopyToAsync(rest, token);
            await context.Response.WriteAsync($"{System.Text.Encoding.ASCII.GetString(buffer)}+{rest.Length}", token);
        }
        else if (path.StartsWith("/ws/", StringComparison.Ordinal) && context.WebSockets.IsWebSocketRequest)
        {
            await ServeWebSocketAsync(context, path, token);
        }
        else if (path == "/hop-by-hop")
        {
            context.Response.Headers.Connection = "X-Origin-Hop";
            context.Response.Headers["X-Origin-Hop"] = "secret";
            context.Response.Headers["X-Origin-End"] = "kept";
            await context.Response.WriteAsync("hop", token);
        }
        else
        {
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync($"{request.Method} {path}{request.QueryString} from origin", token);
        }
    }

    /// <summary>Serves one file under <paramref name="root"/> as static content, and nothing outside it.</summary>
    private static async Task ServeFileAsync(HttpContext context, string root, string relative, CancellationToken token)
    {
        var full = Path.GetFullPath(Path.Combine(root, relative));
        if (!full.StartsWith(Path.GetFullPath(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(full))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        await using var file = File.OpenRead(full);
        context.Response.ContentLength = file.Length;
        context.Response.ContentType = "application/octet-stream";
        await file.CopyToAsync(context.Response.Body, token);
    }

    /// <summary>
    /// /ws/echo echoes every message until the client starts the close handshake, then completes it and waits for the
    /// client to close the connection; /ws/close sends "bye", starts the close handshake itself and closes the connection.
    /// </summary>
    private static async Task ServeWebSocketAsync(HttpContext context, string path, CancellationToken token)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        if (path == "/ws/close")
        {
            await socket.SendAsync("bye"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, token);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "origin done", token);
            return;
        }

        var buffer = new byte[4096];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "client done", token);
                // Leaves closing the connection to the client, which RFC 6455 §7.1.1 allows once the handshake is done.
                await Task.Delay(TimeSpan.FromSeconds(10), token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, token);
        }
    }

    public static byte PatternByte(long offset) => (byte)((offset * 31) + 7);

    private static async Task WritePatternAsync(Stream body, long size, CancellationToken token)
    {
        var buffer = new byte[64 * 1024];
        long written = 0;
        while (written < size)
        {
            var count = (int)Math.Min(buffer.Length, size - written);
            for (var i = 0; i < count; i++)
            {
                buffer[i] = PatternByte(written + i);
            }

            await body.WriteAsync(buffer.AsMemory(0, count), token);
            written += count;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        await _app.DisposeAsync();
    }
}
