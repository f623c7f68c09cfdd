using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using EgressLab.ProxyInstance.AccessLog;
using EgressLab.ProxyInstance.Authentication;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Egress;
using EgressLab.ProxyInstance.Errors;
using EgressLab.ProxyInstance.Forwarding;
using EgressLab.ProxyInstance.Hosting;
using EgressLab.ProxyInstance.Metrics;
using EgressLab.ProxyInstance.Policy;
using Microsoft.AspNetCore.Connections;

namespace EgressLab.ProxyInstance.Tunnel;

/// <summary>
/// Connection middleware on the proxy listener. It peeks at the first request line without consuming it:
/// a <c>CONNECT</c> is handled here, anything else goes on to Kestrel's HTTP/1.1 pipeline untouched.
/// Kestrel's HTTP layer cannot run CONNECT tunnels (dotnet/aspnetcore #21953), so they live at this layer.
/// </summary>
internal sealed partial class TunnelConnectionMiddleware
{
    private static readonly byte[] Established = "HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray();
    private const int MaxClientHelloBytes = 64 * 1024;

    private readonly ConnectionDelegate _next;
    private readonly RuntimeSettingsStore _settings;
    private readonly EgressDialer _dialer;
    private readonly ProxyMetrics _metrics;
    private readonly AccessLogWriter _accessLog;
    private readonly TimeProvider _timeProvider;
    private readonly DrainSignal _drain;
    private readonly ILogger _logger;

    public TunnelConnectionMiddleware(ConnectionDelegate next, IServiceProvider services)
    {
        _next = next;
        _settings = services.GetRequiredService<RuntimeSettingsStore>();
        _dialer = services.GetRequiredService<EgressDialer>();
        _metrics = services.GetRequiredService<ProxyMetrics>();
        _accessLog = services.GetRequiredService<AccessLogWriter>();
        _timeProvider = services.GetRequiredService<TimeProvider>();
        _drain = services.GetRequiredService<DrainSignal>();
        _logger = services.GetRequiredService<ILogger<TunnelConnectionMiddleware>>();
    }

    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        var settings = _settings.Current;
        var input = connection.Transport.Input;
        using var headTimeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        // Restart-only, like Kestrel's own limits on the plain-HTTP path: taken from the startup settings.
        var startup = _settings.Startup;
        headTimeout.CancelAfter(startup.RequestHeadersTimeout);

        ReadResult result;
        while (true)
        {
            try
            {
                result = await input.ReadAsync(headTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Nothing arrived in time (or the client left): close quietly, as Kestrel does for an idle connection.
                return;
            }

            var isConnect = ConnectRequestParser.StartsWithConnect(result.Buffer);
            if (isConnect is null && !result.IsCompleted)
            {
                input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                continue;
            }

            if (isConnect != true)
            {
                // Not a tunnel: hand every byte, unconsumed, to the HTTP pipeline, through a recorder that keeps
                // each request head as sent (Kestrel rewrites the Connection field).
                input.AdvanceTo(result.Buffer.Start);
                using var recorder = RequestHeadRecorder.Attach(connection, ConnectRequestParser.MaxRequestLineBytes + startup.MaxRequestHeadBytes + 4);
                await _next(connection).ConfigureAwait(false);
                return;
            }

            break;
        }

        var started = Stopwatch.GetTimestamp();
        var time = _timeProvider.GetUtcNow();
        var sink = new ClientSink(connection);
        var client = ClientAddress(connection);
        ConnectRequest? request;
        while (true)
        {
            var buffer = result.Buffer;
            var status = ConnectRequestParser.TryParse(buffer, startup.MaxRequestHeadBytes, out request, out var parseError, out var consumed, out var examined);
            if (status == ConnectParseStatus.Complete)
            {
                // Bytes after the head (a pipelined ClientHello) stay in the pipe for the relay.
                input.AdvanceTo(consumed);
                break;
            }

            if (status == ConnectParseStatus.Error)
            {
                input.AdvanceTo(buffer.End);
                var error = parseError switch
                {
                    ConnectParseError.HeadTooLarge => ProxyError.RequestHeadTooLarge,
                    ConnectParseError.RequestLineTooLong => ProxyError.RequestLineTooLong,
                    ConnectParseError.UnsupportedVersion => ProxyError.VersionNotSupported,
                    _ => ProxyError.InvalidRequest,
                };
                var sent = await RejectAsync(sink, error, "-", Describe(parseError), settings, _drain.DrainExpired).ConfigureAwait(false);
                Complete((new TunnelLog(time, started, client, null, "CONNECT", "-")) with { BytesDown = sent }, error, Describe(parseError));
                return;
            }

            if (result.IsCompleted)
            {
                input.AdvanceTo(buffer.End);
                return;
            }

            input.AdvanceTo(buffer.Start, examined);
            try
            {
                result = await input.ReadAsync(headTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!connection.ConnectionClosed.IsCancellationRequested)
            {
                var sent = await RejectAsync(sink, ProxyError.RequestHeadersTimeout, "-", null, settings, _drain.DrainExpired).ConfigureAwait(false);
                Complete((new TunnelLog(time, started, client, null, "CONNECT", "-")) with { BytesDown = sent }, ProxyError.RequestHeadersTimeout, null);
                return;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        await TunnelAsync(connection, sink, request!, new TunnelLog(time, started, client, null, "CONNECT", request!.RawAuthority), settings).ConfigureAwait(false);
    }

    private async Task TunnelAsync(ConnectionContext connection, ClientSink sink, ConnectRequest request, TunnelLog log, RuntimeSettings settings)
    {
        // Not ConnectionClosed: Kestrel fires it when the client half-closes, which a client may do right
        // after sending its payload; dialling is bounded by the connect timeout instead.
        var closed = _drain.DrainExpired;
        var target = request.RawAuthority;
        string? user = null;
        if (settings.Credentials is { } credentials)
        {
            if (!BasicCredentials.TryParse(request.ProxyAuthorization, out var name, out var password) || !credentials.Verify(name, password))
            {
                var sent = await RejectAsync(sink, ProxyError.AuthenticationRequired, target, null, settings, closed).ConfigureAwait(false);
                Complete(log with { BytesDown = sent }, ProxyError.AuthenticationRequired, null);
                return;
            }

            user = name;
            log = log with { User = user };
        }

        var kind = HostLiteral.Classify(request.Host, out var literal);
        if (kind == HostKind.Invalid)
        {
            var detail = $"'{request.Host}' is not a valid host name or address";
            var sent = await RejectAsync(sink, ProxyError.InvalidRequest, target, detail, settings, closed).ConfigureAwait(false);
            Complete(log with { BytesDown = sent }, ProxyError.InvalidRequest, detail);
            return;
        }

        var host = literal?.ToString() ?? request.Host;
        var decision = settings.Policy.Decide(new PolicyRequest(log.Client ?? IPAddress.None, user, "CONNECT", host, request.Port));
        log = log with { Decision = decision };
        _metrics.RecordRequest(decision.IsAllowed ? "allow" : "deny", decision.RuleName ?? "default", "tunnel");
        if (!decision.IsAllowed)
        {
            var detail = PolicyDetail(decision);
            var sent = await RejectAsync(sink, ProxyError.AccessDenied, target, detail, settings, closed).ConfigureAwait(false);
            Complete(log with { BytesDown = sent }, ProxyError.AccessDenied, detail);
            return;
        }

        var egress = await _dialer.ConnectAsync(host, request.Port, closed).ConfigureAwait(false);
        log = log with { Egress = egress };
        if (!egress.Succeeded)
        {
            var sent = await RejectAsync(sink, egress.Error, target, egress.Detail, settings, closed).ConfigureAwait(false);
            Complete(log with { BytesDown = sent }, egress.Error, egress.Detail);
            return;
        }

        using var upstream = egress.Socket!;
        try
        {
            await sink.SendAsync(Established, closed).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Complete(log, ProxyError.None, "client left before the tunnel opened");
            return;
        }

        var drained = closed;
        _metrics.TunnelOpened();
        try
        {
            if (settings.Policy.SniMode != SniMode.Off)
            {
                var (sniError, sni, sniDetail) = await CheckServerNameAsync(connection.Transport.Input, request.Host, literal is not null, settings, drained).ConfigureAwait(false);
                log = log with { Sni = sni };
                if (sniError != ProxyError.None)
                {
                    if (sniError == ProxyError.SniMismatch)
                    {
                        _metrics.SniMismatch();
                    }

                    _metrics.RecordError(ProxyErrorResponses.Code(sniError));

                    Log.TunnelRefused(_logger, log.Client, target, ProxyErrorResponses.Code(sniError), sniDetail ?? "-");
                    Complete(log, sniError, sniDetail);
                    return;
                }
            }

            var relay = new TunnelRelay(connection.Transport.Input, sink, upstream, settings.TunnelIdleTimeout, _timeProvider);
            var outcome = await relay.RunAsync(drained).ConfigureAwait(false);
            _metrics.AddBytes(outcome.BytesUp, outcome.BytesDown);
            Complete(log with { BytesUp = outcome.BytesUp, BytesDown = outcome.BytesDown + Established.Length }, ProxyError.None,
                outcome.End == TunnelEnd.Closed ? null : outcome.End.ToString());
        }
        finally
        {
            _metrics.TunnelClosed();
        }
    }

    /// <summary>
    /// Waits for the client's TLS ClientHello, without consuming it, and checks its server name against the
    /// CONNECT host. This closes domain fronting: a tunnel allowed for one name carrying TLS for another.
    /// </summary>
    private static async Task<(ProxyError Error, string? Sni, string? Detail)> CheckServerNameAsync(
        PipeReader input, string connectHost, bool hostIsAddress, RuntimeSettings settings, CancellationToken closed)
    {
        var mode = settings.Policy.SniMode;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closed);
        timeout.CancelAfter(settings.ClientHelloTimeout);
        ClientHelloParseStatus status;
        string? sni;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return (ProxyError.ClientHelloInvalid, null, "no TLS ClientHello arrived in time");
            }

            status = ClientHelloParser.TryParse(result.Buffer, MaxClientHelloBytes, out sni);
            if (status == ClientHelloParseStatus.Incomplete && !result.IsCompleted)
            {
                input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                continue;
            }

            // Leave every byte in the pipe: the relay forwards the ClientHello to the destination.
            input.AdvanceTo(result.Buffer.Start);
            break;
        }

        if (status != ClientHelloParseStatus.Parsed)
        {
            return mode == SniMode.AllowMissing
                ? (ProxyError.None, null, null)
                : (ProxyError.ClientHelloInvalid, null, status == ClientHelloParseStatus.Incomplete ? "the client closed before its ClientHello" : "the first bytes are not a TLS ClientHello");
        }

        if (sni is null)
        {
            // Clients send no SNI for an IP-literal host (RFC 6066 §3), so that is no mismatch.
            return hostIsAddress || mode == SniMode.AllowMissing
                ? (ProxyError.None, null, null)
                : (ProxyError.SniMismatch, null, "the ClientHello names no server");
        }

        return !hostIsAddress && SameName(sni, connectHost)
            ? (ProxyError.None, sni, null)
            : (ProxyError.SniMismatch, sni, sni);
    }

    private static bool SameName(string a, string b) =>
        a.AsSpan().TrimEnd('.').Equals(b.AsSpan().TrimEnd('.'), StringComparison.OrdinalIgnoreCase);

    /// <summary>Sends the error response and returns how many bytes reached the client, for the access log.</summary>
    private async Task<long> RejectAsync(ClientSink sink, ProxyError error, string target, string? detail, RuntimeSettings settings, CancellationToken closed)
    {
        _metrics.RecordError(ProxyErrorResponses.Code(error));
        var response = ProxyErrorResponses.RawResponse(error, target, detail, settings.Realm);
        try
        {
            await sink.SendAsync(response, closed).ConfigureAwait(false);
            return response.Length;
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Log.ClientGone(_logger, target);
            return 0;
        }
    }

    /// <summary>Writes the tunnel's access log line; the status comes from the outcome, mapped in one place.</summary>
    private void Complete(TunnelLog log, ProxyError error, string? detail)
    {
        _accessLog.Write(new AccessLogEntry
        {
            Time = log.Time,
            Duration = Stopwatch.GetElapsedTime(log.Started),
            Client = log.Client,
            User = log.User,
            Method = log.Method,
            Target = log.Target,
            Tunnel = true,
            Status = ProxyErrorResponses.StatusCode(error),
            Error = error,
            Decision = log.Decision is null ? "none" : log.Decision.IsAllowed ? "allow" : "deny",
            Rule = log.Decision?.RuleName,
            Reason = log.Decision?.Reason.ToString(),
            Upstream = log.Egress.Address,
            Sni = log.Sni,
            BytesUp = log.BytesUp,
            BytesDown = log.BytesDown,
            DnsTime = log.Egress.DnsTime,
            ConnectTime = log.Egress.ConnectTime,
            Detail = detail,
        });
    }

    internal static string PolicyDetail(PolicyDecision decision) => decision.RuleName is { } rule
        ? $"rule '{rule}'"
        : "no rule allows it and the default action is Deny";

    private static string Describe(ConnectParseError error) => error switch
    {
        ConnectParseError.InvalidAuthority => "the CONNECT target must be host:port, with a port from 1 to 65535 and IPv6 in brackets",
        ConnectParseError.MalformedRequestLine => "malformed request line",
        ConnectParseError.InvalidHeader => "malformed header field",
        ConnectParseError.HeadTooLarge => "request head too large",
        ConnectParseError.RequestLineTooLong => "request line too long",
        ConnectParseError.UnsupportedVersion => "unsupported HTTP version",
        _ => error.ToString(),
    };

    internal static IPAddress? ClientAddress(ConnectionContext connection) => connection.RemoteEndPoint switch
    {
        IPEndPoint { Address.IsIPv4MappedToIPv6: true } ip => ip.Address.MapToIPv4(),
        IPEndPoint ip => ip.Address,
        _ => null,
    };

    private sealed record TunnelLog(DateTimeOffset Time, long Started, IPAddress? Client, string? User, string Method, string Target)
    {
        public PolicyDecision? Decision { get; init; }
        public EgressResult Egress { get; init; }
        public string? Sni { get; init; }
        public long BytesUp { get; init; }
        public long BytesDown { get; init; }
    }

    private static partial class Log
    {
        [LoggerMessage(200, LogLevel.Warning, "Tunnel from {Client} to {Target} closed: {Code} ({Detail})")]
        public static partial void TunnelRefused(ILogger logger, IPAddress? client, string target, string code, string detail);

        [LoggerMessage(201, LogLevel.Debug, "Client went away before the response for {Target} was sent")]
        public static partial void ClientGone(ILogger logger, string target);
    }
}
