using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using EgressLab.ProxyInstance.Configuration;
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
/// <remarks>
/// Origin connections are pooled per settings generation: each generation's handler dials with that generation's
/// settings (SSRF exemptions, <c>Dns.Hosts</c>, timeouts), and a reload retires the old handler, which is disposed,
/// with its pooled connections, once the last request using it has finished. A connection opened under settings
/// that a reload narrowed is never reused for the next request.
/// </remarks>
internal sealed class EgressHttpClient : IDisposable
{
    private readonly EgressDialer _dialer;
    private readonly RuntimeSettingsStore _settings;
    private readonly Lock _rotateLock = new();
    private volatile Generation _current;

    public EgressHttpClient(EgressDialer dialer, RuntimeSettingsStore settings)
    {
        ArgumentNullException.ThrowIfNull(dialer);
        ArgumentNullException.ThrowIfNull(settings);
        _dialer = dialer;
        _settings = settings;
        _current = new Generation(settings.Current, CreateInvoker(dialer, settings.Current));
        settings.Changed += Rotate;
    }

    /// <summary>
    /// Takes the client of the settings in force for one request; dispose the lease when the request (its response body
    /// included) is done. Not an allocation per request.
    /// </summary>
    public Lease Acquire()
    {
        while (true)
        {
            var generation = _current;
            if (!ReferenceEquals(generation.Settings, _settings.Current))
            {
                // A reload is being applied: take part in it rather than use the generation it retires.
                Rotate(_settings.Current);
                continue;
            }

            if (generation.TryAcquire())
            {
                return new Lease(generation);
            }
        }
    }

    public void Dispose()
    {
        _settings.Changed -= Rotate;
        _current.Retire();
    }

    private void Rotate(RuntimeSettings settings)
    {
        Generation retired;
        lock (_rotateLock)
        {
            retired = _current;
            if (ReferenceEquals(retired.Settings, settings))
            {
                return;
            }

            _current = new Generation(settings, CreateInvoker(_dialer, settings));
        }

        retired.Retire();
    }

    private static HttpMessageInvoker CreateInvoker(EgressDialer dialer, RuntimeSettings settings)
    {
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
                var result = await dialer.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, settings, cancellationToken).ConfigureAwait(false);
                return result.Succeeded ? new TracedConnectionStream(result) : throw new EgressException(result);
            },
        };
        return new HttpMessageInvoker(handler, disposeHandler: true);
    }

    /// <summary>One request's use of a generation's client.</summary>
    internal readonly struct Lease : IDisposable
    {
        private readonly Generation _generation;

        internal Lease(Generation generation) => _generation = generation;

        public HttpMessageInvoker Invoker => _generation.Invoker;

        public void Dispose() => _generation?.Release();
    }

    /// <summary>A settings generation's client and the requests using it; disposed once retired and unused.</summary>
    internal sealed class Generation(RuntimeSettings settings, HttpMessageInvoker invoker)
    {
        private int _users;
        private int _retired;
        private int _disposed;

        public RuntimeSettings Settings { get; } = settings;

        public HttpMessageInvoker Invoker { get; } = invoker;

        /// <summary>Whether the handler has been disposed (for tests).</summary>
        public bool IsDisposed => Volatile.Read(ref _disposed) == 1;

        public bool TryAcquire()
        {
            // Count first, then look: with Retire doing the opposite, one of the two always sees the other.
            Interlocked.Increment(ref _users);
            if (Volatile.Read(ref _retired) == 0)
            {
                return true;
            }

            Release();
            return false;
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _users) == 0 && Volatile.Read(ref _retired) == 1)
            {
                DisposeOnce();
            }
        }

        public void Retire()
        {
            Interlocked.Exchange(ref _retired, 1);
            if (Volatile.Read(ref _users) == 0)
            {
                DisposeOnce();
            }
        }

        private void DisposeOnce()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Invoker.Dispose();
            }
        }
    }

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
