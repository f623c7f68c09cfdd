using System.Net;
using System.Security.Cryptography.X509Certificates;
using EgressLab.ProxyInstance.Tests.TestHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace EgressLab.LoadTests.Tests.TestHost;

/// <summary>
/// The lab's origin contract on loopback: GET /1k (1024 bytes), GET /10m (10 MiB), POST /upload (answers "ok\n"), 404
/// for anything else, and nothing for 30 s under /hang/; over plain HTTP, over TLS with a certificate for www.lab.test and 127.0.0.1, and over TLS with a
/// certificate for www.lab.test alone (a name mismatch when reached as 127.0.0.1). It counts what it served.
/// </summary>
internal sealed class LabOrigin : IAsyncDisposable
{
    public const string Name = "www.lab.test";

    private static readonly byte[] Pattern = CreatePattern();
    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2 _nameOnlyCertificate;
    private long _small;
    private long _bulk;
    private long _uploads;
    private long _notFound;
    private long _bytesDown;
    private long _bytesUp;
    private long _smallSeen;

    private LabOrigin(WebApplication app, X509Certificate2 certificate, X509Certificate2 nameOnlyCertificate)
    {
        _app = app;
        _certificate = certificate;
        _nameOnlyCertificate = nameOnlyCertificate;
    }

    public int HttpPort { get; private set; }
    public int HttpsPort { get; private set; }

    /// <summary>TLS with a certificate that names www.lab.test but not 127.0.0.1.</summary>
    public int NameOnlyHttpsPort { get; private set; }

    /// <summary>/1k responses completed.</summary>
    public long SmallServed => Interlocked.Read(ref _small);
    public long BulkServed => Interlocked.Read(ref _bulk);
    public long UploadsServed => Interlocked.Read(ref _uploads);
    public long NotFoundServed => Interlocked.Read(ref _notFound);
    public long BytesDown => Interlocked.Read(ref _bytesDown);
    public long BytesUp => Interlocked.Read(ref _bytesUp);
    public long TotalServed => SmallServed + BulkServed + UploadsServed + NotFoundServed;

    /// <summary>Called with the sequence number (from 1) of each /1k request before it is answered; may delay it.</summary>
    public Func<long, CancellationToken, Task>? BeforeSmall { get; set; }

    public static async Task<LabOrigin> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var certificate = TestCertificates.CreateServer(Name, "127.0.0.1");
        var nameOnly = TestCertificates.CreateServer(Name);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1);
            kestrel.Listen(IPAddress.Loopback, 0, l =>
            {
                l.Protocols = HttpProtocols.Http1;
                l.UseHttps(certificate);
            });
            kestrel.Listen(IPAddress.Loopback, 0, l =>
            {
                l.Protocols = HttpProtocols.Http1;
                l.UseHttps(nameOnly);
            });
        });
        var app = builder.Build();
        var origin = new LabOrigin(app, certificate, nameOnly);
        app.Run(origin.HandleAsync);
        await app.StartAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30));
        var urls = app.Urls.Select(u => new Uri(u)).ToList();
        origin.HttpPort = urls.Single(u => u.Scheme == "http").Port;
        var tls = urls.Where(u => u.Scheme == "https").Select(u => u.Port).ToList();
        origin.HttpsPort = tls[0];
        origin.NameOnlyHttpsPort = tls[1];
        return origin;
    }

    /// <summary>Waits (bounded) until the origin has completed <paramref name="count"/> responses, and returns how many it has.</summary>
    public async Task<long> WaitForServedAsync(long count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (TotalServed < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        return TotalServed;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var token = context.RequestAborted;
        var path = context.Request.Path.Value ?? "/";
        switch (context.Request.Method, path)
        {
            case ("GET", "/1k"):
                if (BeforeSmall is { } hook)
                {
                    await hook(Interlocked.Increment(ref _smallSeen), token);
                }

                await WriteAsync(context, 1024, token);
                Interlocked.Increment(ref _small);
                break;
            case ("GET", "/10m"):
                await WriteAsync(context, 10 * 1024 * 1024, token);
                Interlocked.Increment(ref _bulk);
                break;
            case ("POST", "/upload"):
                var buffer = new byte[64 * 1024];
                long total = 0;
                int read;
                while ((read = await context.Request.Body.ReadAsync(buffer, token)) > 0)
                {
                    total += read;
                }

                Interlocked.Add(ref _bytesUp, total);
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync("ok\n", token);
                Interlocked.Increment(ref _uploads);
                break;
            case ("GET", _) when path.StartsWith("/hang/", StringComparison.Ordinal):
                // Never answers in time: for the client's timeout. Bounded so that a broken client cannot hold the test.
                await Task.Delay(TimeSpan.FromSeconds(30), token);
                await context.Response.WriteAsync("late\n", token);
                break;
            default:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                await context.Response.WriteAsync("not found\n", token);
                Interlocked.Increment(ref _notFound);
                break;
        }
    }

    private async Task WriteAsync(HttpContext context, int size, CancellationToken token)
    {
        context.Response.ContentLength = size;
        context.Response.ContentType = "application/octet-stream";
        for (var sent = 0; sent < size; sent += Pattern.Length)
        {
            await context.Response.Body.WriteAsync(Pattern.AsMemory(0, Math.Min(Pattern.Length, size - sent)), token);
        }

        Interlocked.Add(ref _bytesDown, size);
    }

    private static byte[] CreatePattern()
    {
        var pattern = new byte[64 * 1024];
        new Random(7).NextBytes(pattern);
        return pattern;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        await _app.DisposeAsync();
        _certificate.Dispose();
        _nameOnlyCertificate.Dispose();
    }
}
