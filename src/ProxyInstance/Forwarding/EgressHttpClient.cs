using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using EgressLab.ProxyInstance.Egress;
using EgressLab.ProxyInstance.Errors;

namespace EgressLab.ProxyInstance.Forwarding;

/// <summary>
/// Carries the origin connection a request went out on to the access log: its address on every request, and the DNS and
/// connect times on the request that was first to use it (a request on a reused connection waited for neither).
/// </summary>
/// <remarks>
/// HttpClient opens connections apart from the requests that asked for them, and gives a request whichever pooled
/// connection frees up first, so the connection tells the request, when the request's head is written to it: the
/// request's flow sets <see cref="Current"/> and the connection's stream fills it in.
/// </remarks>
internal sealed class EgressTrace
{
    private static readonly AsyncLocal<EgressTrace?> CurrentTrace = new();

    /// <summary>The trace of the request this flow is forwarding; set before the request is sent.</summary>
    public static EgressTrace? Current
    {
        get => CurrentTrace.Value;
        set => CurrentTrace.Value = value;
    }

    public EgressResult Result { get; set; }
}

/// <summary>An origin connection that reports itself to the <see cref="EgressTrace"/> of each request written to it.</summary>
internal sealed class TracedConnectionStream(EgressResult opened) : NetworkStream(opened.Socket!, ownsSocket: true)
{
    private readonly EgressResult _reused = opened with { DnsTime = TimeSpan.Zero, ConnectTime = TimeSpan.Zero };
    private EgressTrace? _first;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Report();
        base.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        Report();
        base.Write(buffer, offset, count);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Report();
        return base.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Report();
        return base.WriteAsync(buffer, offset, count, cancellationToken);
    }

    // Every write, not just a request's first: a request HttpClient retries on another connection ends up with the
    // one that carried it last.
    private void Report()
    {
        if (EgressTrace.Current is not { } trace)
        {
            return;
        }

        _first ??= trace;
        trace.Result = ReferenceEquals(_first, trace) ? opened : _reused;
    }
}

/// <summary>The dialer's refusal or failure, carried through HttpClient to the forwarding middleware.</summary>
internal sealed class EgressException(EgressResult result)
    : IOException($"{ProxyErrorResponses.Code(result.Error)}: {result.Detail}")
{
    public EgressResult Result { get; } = result;
}

/// <summary>
/// The HTTP client for plain-HTTP forwarding. Every connection it opens goes through the
/// <see cref="EgressDialer"/>, so the SSRF guard sees the address that is then used, and the handler is set
/// up as a forward proxy needs: no proxy of its own, no redirects, no decompression, no cookies, no tracing
/// headers added.
/// </summary>
internal sealed class EgressHttpClient : IDisposable
{
    public EgressHttpClient(EgressDialer dialer)
    {
        ArgumentNullException.ThrowIfNull(dialer);
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = null,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var result = await dialer.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
                return result.Succeeded ? new TracedConnectionStream(result) : throw new EgressException(result);
            },
        };
        Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();

    /// <summary>Finds the dialer's outcome in an exception chain from HttpClient.</summary>
    public static EgressException? FindEgressException(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is EgressException egress)
            {
                return egress;
            }
        }

        return null;
    }
}
