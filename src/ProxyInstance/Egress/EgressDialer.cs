using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EgressLab.ProxyInstance.Errors;
using EgressLab.ProxyInstance.Metrics;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Egress;

/// <summary>The outcome of opening a connection to a destination.</summary>
internal readonly record struct EgressResult(Socket? Socket, ProxyError Error, string? Detail, IPAddress? Address, TimeSpan DnsTime, TimeSpan ConnectTime)
{
    public bool Succeeded => Socket is not null;
}

/// <summary>
/// The only place the proxy dials out. It resolves a name once, checks every address with the
/// <see cref="DestinationGuard"/>, and connects to exactly the address it checked, so that a DNS answer
/// that changes between a check and a connect (rebinding) cannot reach a private address.
/// </summary>
internal sealed partial class EgressDialer(IHostResolver resolver, ISocketConnector connector, ProxyMetrics metrics, ILogger<EgressDialer> logger,
    DnsCache dnsCache)
{
    /// <summary>Opens a TCP connection to <paramref name="host"/>:<paramref name="port"/>, or says why it cannot.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the client went away).</exception>
    /// <param name="host">The host in any notation (the plain-HTTP handler's connection callback); it is made an <see cref="EgressTarget"/> first.</param>
    /// <param name="port">The destination port.</param>
    /// <param name="settings">The caller's settings snapshot; see the other overload.</param>
    /// <param name="cancellationToken">Cancels the dial.</param>
    public ValueTask<EgressResult> ConnectAsync(string host, int port, IEgressSettings settings, CancellationToken cancellationToken) =>
        EgressTarget.TryCreate(host, port, out var target)
            ? ConnectAsync(target, settings, cancellationToken)
            : ValueTask.FromResult(Fail(ProxyError.InvalidRequest, $"'{host}' is not a valid host name or address"));

    /// <summary>Opens a TCP connection to <paramref name="target"/>, or says why it cannot.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the client went away).</exception>
    /// <param name="target">
    /// The destination the policy judged. A name is looked up as it stands there, in canonical form, in <c>Dns.Hosts</c>
    /// and by the resolver, whose hosts file matches names exactly, so that <c>Example.COM.</c> reaches what
    /// <c>example.com</c> does.
    /// </param>
    /// <param name="settings">
    /// The caller's settings snapshot (SSRF guard, <c>Dns.Hosts</c>, timeouts): the one its request was admitted under,
    /// or the generation of the connection pool dialling, so that a reload never mixes two generations in one dial.
    /// </param>
    /// <param name="cancellationToken">Cancels the dial.</param>
    public async ValueTask<EgressResult> ConnectAsync(EgressTarget target, IEgressSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var host = target.Host;
        var port = target.Port;
        var dnsTime = TimeSpan.Zero;
        IPAddress[] addresses;
        if (target.Address is { } literal)
        {
            addresses = [literal];
        }
        else if (settings.StaticHosts.TryGetValue(host, out var pinned))
        {
            addresses = pinned;
        }
        else if (dnsCache.TryGet(host, settings.DnsCacheTtl, out var cached))
        {
            addresses = cached;
        }
        else
        {
            var started = Stopwatch.GetTimestamp();
            using var dnsTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            dnsTimeout.CancelAfter(settings.DnsTimeout);
            Task<IPAddress[]>? lookup = null;
            try
            {
                // On Linux the system resolver is a blocking getaddrinfo that no token stops once it has begun, so the
                // timeout is kept here, by no longer waiting, and not left to the resolver.
                lookup = resolver.ResolveAsync(host, dnsTimeout.Token);
                addresses = await lookup.WaitAsync(dnsTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                ObserveAbandoned(lookup);
                return Fail(ProxyError.DnsTimeout, null, Stopwatch.GetElapsedTime(started));
            }
            catch (OperationCanceledException)
            {
                ObserveAbandoned(lookup);
                throw;
            }
            catch (SocketException ex)
            {
                Log.DnsFailed(logger, host, ex.SocketErrorCode);
                return Fail(ProxyError.DnsFailure, DnsMessage(ex), Stopwatch.GetElapsedTime(started));
            }

            dnsTime = Stopwatch.GetElapsedTime(started);
            metrics.RecordDns(dnsTime);
            if (addresses.Length == 0)
            {
                return Fail(ProxyError.DnsFailure, "the name has no addresses", dnsTime);
            }

            dnsCache.Store(host, addresses, settings.DnsCacheTtl);
        }

        // Check every address first; dial only those that pass, in the resolver's order.
        var allowed = new List<IPAddress>(addresses.Length);
        string? denied = null;
        foreach (var address in addresses)
        {
            var verdict = settings.Guard.Check(address);
            if (verdict.Allowed)
            {
                // An IPv4-mapped address can only be reached over IPv4; every other address is dialled as checked.
                allowed.Add(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
            }
            else
            {
                denied ??= $"{address} ({Describe(verdict.Class)})";
            }
        }

        if (allowed.Count == 0)
        {
            return Fail(ProxyError.DestinationPrivate, denied, dnsTime);
        }

        var connectStarted = Stopwatch.GetTimestamp();
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectTimeout.CancelAfter(settings.ConnectTimeout);
        SocketError lastError = SocketError.HostUnreachable;
        IPAddress lastAddress = allowed[0];
        foreach (var address in allowed)
        {
            lastAddress = address;
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var owned = socket;
            try
            {
                await connector.ConnectAsync(socket, new IPEndPoint(address, port), connectTimeout.Token).ConfigureAwait(false);
                var connectTime = Stopwatch.GetElapsedTime(connectStarted);
                metrics.RecordConnect(connectTime);
                owned = null;
                return new EgressResult(socket, ProxyError.None, null, address, dnsTime, connectTime);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new EgressResult(null, ProxyError.ConnectTimeout, null, address, dnsTime, Stopwatch.GetElapsedTime(connectStarted));
            }
            catch (SocketException ex)
            {
                lastError = ex.SocketErrorCode;
                Log.ConnectFailed(logger, address, port, ex.SocketErrorCode);
            }
            finally
            {
                // Every path but success disposes the half-built socket, including our own cancellation.
                owned?.Dispose();
            }
        }

        return new EgressResult(null, ProxyError.ConnectFailed, ConnectMessage(lastError), lastAddress, dnsTime, Stopwatch.GetElapsedTime(connectStarted));
    }

    /// <summary>
    /// A lookup given up on may still fail later; observing its exception then keeps it from being raised as an
    /// unobserved task exception.
    /// </summary>
    private static void ObserveAbandoned(Task? lookup) =>
        lookup?.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static EgressResult Fail(ProxyError error, string? detail, TimeSpan dnsTime = default) =>
        new(null, error, detail, null, dnsTime, TimeSpan.Zero);

    private static string DnsMessage(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.HostNotFound => "no such name",
        SocketError.NoData => "the name has no addresses",
        SocketError.TryAgain => "the DNS server did not answer",
        _ => ex.SocketErrorCode.ToString(),
    };

    private static string ConnectMessage(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.ConnectionReset => "connection reset",
        _ => error.ToString(),
    };

    private static string Describe(AddressClass addressClass) => addressClass switch
    {
        AddressClass.Loopback => "loopback",
        AddressClass.Private => "private network",
        AddressClass.LinkLocal => "link-local",
        AddressClass.CarrierGradeNat => "carrier-grade NAT",
        AddressClass.Unspecified => "unspecified",
        AddressClass.Multicast => "multicast",
        AddressClass.Broadcast => "broadcast",
        AddressClass.UniqueLocal => "IPv6 unique-local",
        AddressClass.Reserved => "reserved",
        AddressClass.Metadata => "cloud metadata service",
        AddressClass.ProxyOwn => "the proxy's own address",
        _ => addressClass.ToString(),
    };

    private static partial class Log
    {
        [LoggerMessage(300, LogLevel.Debug, "DNS lookup of {Host} failed: {Error}")]
        public static partial void DnsFailed(ILogger logger, string host, SocketError error);

        [LoggerMessage(301, LogLevel.Debug, "Connect to {Address}:{Port} failed: {Error}")]
        public static partial void ConnectFailed(ILogger logger, IPAddress address, int port, SocketError error);
    }
}
