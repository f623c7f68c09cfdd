using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using EgressLab.ProxyInstance.AccessLog;
using EgressLab.ProxyInstance.Admission;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Egress;
using EgressLab.ProxyInstance.Errors;
using EgressLab.ProxyInstance.Lifetime;
using EgressLab.ProxyInstance.Limits;
using EgressLab.ProxyInstance.Metrics;
using EgressLab.ProxyInstance.Policy;
using Microsoft.AspNetCore.Http.Features;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Tunnel;

/// <summary>
/// Runs a CONNECT once its head is parsed: authentication, policy, the SSRF-guarded dial, the
/// <c>200 Connection established</c>, the SNI check and the relay. The connection middleware calls it for a
/// CONNECT that opens a connection, the plain-HTTP path for one that follows other requests on it.
/// </summary>
internal sealed partial class TunnelHandler(
    AdmissionGate gate,
    EgressDialer dialer,
    ProxyMetrics metrics,
    AccessLogWriter accessLog,
    TimeProvider timeProvider,
    DrainSignal drain,
    ClientLimits limits,
    ILogger<TunnelHandler> logger)
{
    private static readonly byte[] Established = "HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray();
    private const int MaxClientHelloBytes = 64 * 1024;

    /// <summary>Fires when the drain time after SIGTERM has run out.</summary>
    public CancellationToken DrainExpired => drain.DrainExpired;

    /// <summary>What a client is told when its CONNECT target is not an authority the proxy accepts.</summary>
    public const string InvalidAuthorityDetail = "the CONNECT target must be host:port, with a port from 1 to 65535 and IPv6 in brackets";

    /// <summary>
    /// Runs a CONNECT that Kestrel parsed because it followed other requests on the connection (a client reusing
    /// a keep-alive connection for a tunnel). Kestrel cannot hand a connection over for CONNECT
    /// (dotnet/aspnetcore #21953), so the connection is taken from it: the rest of the input and the output go
    /// to the tunnel, Kestrel sees end of input and its own response for the request goes nowhere. After the
    /// tunnel, or its refusal, the connection closes, as after a CONNECT that opened it. The caller has checked
    /// <see cref="HandOverProblem"/> first, and takes the connection from Kestrel: <paramref name="input"/> is the rest
    /// of the client's bytes, <paramref name="output"/> the connection's output after Kestrel's earlier responses.
    /// </summary>
    public async Task HandOverAsync(HttpContext context, PipeReader input, PipeWriter output, RuntimeSettings settings,
        IPAddress? client, DateTimeOffset time, long started)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? string.Empty;
        if (!ConnectRequestParser.TryParseAuthority(rawTarget, out var host, out var port, out var bracketed))
        {
            throw new InvalidOperationException("a CONNECT that HandOverProblem refuses is answered by the plain-HTTP path, not handed over");
        }

        // Kestrel's own response for this request goes nowhere; this makes it close the connection after it.
        context.Response.Headers.Connection = "close";
        var sink = new ClientSink(output);
        var log = AccessLogEntry.ForTunnel(time, started, client, rawTarget);
        var headers = request.Headers;
        var version = HttpProtocol.IsHttp10(request.Protocol) ? HttpVersion.Version10 : HttpVersion.Version11;
        var connect = new ConnectRequest(host!, port, bracketed, rawTarget, version,
            headers.ProxyAuthorization.Count == 1 ? headers.ProxyAuthorization.ToString().Trim() : null,
            headers.UserAgent.Count == 1 ? headers.UserAgent.ToString().Trim() : null);
        await RunAsync(input, sink, connect, log, settings).ConfigureAwait(false);
    }

    /// <summary>
    /// Why a CONNECT that Kestrel parsed cannot become a tunnel, or null when it can. Checked before the hand-over, so
    /// a refusal goes out through Kestrel, which reads and discards a body the client sent (closing with unread bytes
    /// would reset the connection and lose the answer), and closes the connection.
    /// </summary>
    public static string? HandOverProblem(HttpRequest request, string rawTarget)
    {
        ArgumentNullException.ThrowIfNull(request);
        var headers = request.Headers;
        if (!ConnectRequestParser.TryParseAuthority(rawTarget, out _, out _, out _))
        {
            return InvalidAuthorityDetail;
        }

        // RFC 9110 §9.3.6: a CONNECT request has no content; one that claims some is a smuggling attempt.
        if (headers.ContentLength is > 0 || headers.TransferEncoding.Count > 0)
        {
            return "a CONNECT request has no body";
        }

        return headers.ProxyAuthorization.Count > 1 || headers.UserAgent.Count > 1 ? "malformed header field" : null;
    }

    /// <summary>
    /// Authenticates, decides and dials a parsed CONNECT, answers it on <paramref name="sink"/> and relays the
    /// tunnel until it ends; writes the access log line whatever happens.
    /// </summary>
    public async Task RunAsync(PipeReader clientInput, ClientSink sink, ConnectRequest request, AccessLogEntry log, RuntimeSettings settings)
    {
        // Not ConnectionClosed: Kestrel fires it when the client half-closes, which a client may do right
        // after sending its payload; dialling is bounded by the connect timeout instead.
        var closed = drain.DrainExpired;
        var client = log.Client ?? IPAddress.None;
        var outcome = gate.Admit(new AdmissionRequest(client, "CONNECT", request.Host, request.Port, request.ProxyAuthorization, AdmissionPath.Tunnel), settings);
        log.Admitted(outcome);
        if (!outcome.IsAdmitted)
        {
            await RefuseAsync(sink, log, outcome.Error, outcome.Detail, settings, closed, outcome.RetryAfter).ConfigureAwait(false);
            return;
        }

        var target = outcome.Target;
        if (!limits.TryOpenTunnel(client, settings.MaxTunnelsPerClient))
        {
            var detail = $"this client has {settings.MaxTunnelsPerClient} tunnels open, the most Limits:MaxTunnelsPerClient allows";
            await RefuseAsync(sink, log, ProxyError.TooManyTunnels, detail, settings, closed).ConfigureAwait(false);
            return;
        }

        try
        {
            await OpenAsync(clientInput, sink, target, log, settings).ConfigureAwait(false);
        }
        finally
        {
            limits.CloseTunnel(client);
        }
    }

    /// <summary>Dials an allowed, admitted tunnel's destination, answers 200, checks the SNI and relays.</summary>
    private async Task OpenAsync(PipeReader clientInput, ClientSink sink, EgressTarget destination, AccessLogEntry log, RuntimeSettings settings)
    {
        var closed = drain.DrainExpired;
        var target = log.Target;
        var egress = await dialer.ConnectAsync(destination, settings, closed).ConfigureAwait(false);
        log.Dialled(egress);
        if (!egress.Succeeded)
        {
            await RefuseAsync(sink, log, egress.Error, egress.Detail, settings, closed).ConfigureAwait(false);
            return;
        }

        using var upstream = egress.Socket!;
        try
        {
            await sink.SendAsync(Established, closed).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
        {
            log.ClientAborted = true;
            Complete(log, ProxyError.None, "client left before the tunnel opened");
            return;
        }

        var drained = closed;
        metrics.TunnelOpened();
        try
        {
            log.BytesDown = Established.Length;
            TunnelHttpGuard? guard = null;
            if (settings.Policy.SniMode != SniMode.Off)
            {
                var check = await CheckFirstBytesAsync(clientInput, upstream, destination, settings, drained).ConfigureAwait(false);
                log.Sni = check.Sni;
                if (check.Error != ProxyError.None)
                {
                    if (check.AnswerInTunnel)
                    {
                        // A plain HTTP request gets its refusal as an HTTP response, inside the tunnel, so the user sees why.
                        await SendInTunnelAsync(sink, log, check.Error, check.Detail, settings, drained).ConfigureAwait(false);
                    }

                    CompleteRefusedInTunnel(log, check.Error, check.Detail);
                    return;
                }

                // Plain HTTP: every later request on the tunnel is held to the CONNECT target too.
                guard = check.Http ? new TunnelHttpGuard(destination, settings) : null;
            }

            var refusal = guard is null ? null : new Func<byte[]>(() => ProxyErrorResponses.RawResponse(guard.Error, target, guard.Detail, settings.Realm));
            var relay = new TunnelRelay(clientInput, sink, upstream, settings.TunnelIdleTimeout, timeProvider, sink.Splices(settings.SpliceTunnels), guard, refusal);
            var outcome = await relay.RunAsync(drained).ConfigureAwait(false);
            metrics.AddBytes(outcome.BytesUp, outcome.BytesDown);
            metrics.AddSplicedBytes(outcome.BytesSpliced);
            log.BytesUp = outcome.BytesUp;
            log.BytesDown = outcome.BytesDown + Established.Length;
            if (guard is { Error: not ProxyError.None })
            {
                CompleteRefusedInTunnel(log, guard.Error, guard.Detail);
                return;
            }

            Complete(log, ProxyError.None,
                outcome.End == TunnelEnd.Closed ? null : outcome.End.ToString());
        }
        finally
        {
            metrics.TunnelClosed();
        }
    }

    /// <summary>
    /// Counts, logs and writes the line of a tunnel refused after its 200 (SNI, ClientHello, or a request inside it): the
    /// client got the 200, and any refusal sent inside the tunnel, so that is the status and the bytes the line says.
    /// </summary>
    private void CompleteRefusedInTunnel(AccessLogEntry log, ProxyError error, string? detail)
    {
        if (error == ProxyError.SniMismatch)
        {
            metrics.SniMismatch();
        }
        else if (error == ProxyError.TunnelHostMismatch)
        {
            metrics.TunnelHostMismatch();
        }

        metrics.RecordError(ProxyErrorResponses.Code(error));
        Log.TunnelRefused(logger, log.Client, log.Target, ProxyErrorResponses.Code(error), detail ?? "-");
        log.Status = StatusCodes.Status200OK;
        Complete(log, error, detail);
    }

    /// <summary>What the first bytes of a tunnel showed, and whether a refusal is answered inside it.</summary>
    private readonly record struct FirstBytesCheck(ProxyError Error, string? Sni, string? Detail, bool AnswerInTunnel = false, bool Http = false)
    {
        public static readonly FirstBytesCheck Pass = new(ProxyError.None, null, null);
    }

    /// <summary>
    /// Waits for the client's first bytes, without consuming them, and holds the destination they name to the CONNECT
    /// target: a TLS ClientHello's SNI, or a plain HTTP/1.x request's Host (or absolute URI). This closes domain
    /// fronting: a tunnel allowed for one name carrying a session or request for another. Any other protocol, and
    /// one in which the destination speaks first, is relayed only when <c>Policy:OtherTunnelProtocols</c> allows it.
    /// </summary>
    private static async Task<FirstBytesCheck> CheckFirstBytesAsync(
        PipeReader input, System.Net.Sockets.Socket upstream, EgressTarget destination, RuntimeSettings settings, CancellationToken closed)
    {
        var policy = settings.Policy;
        var mode = policy.SniMode;
        var othersAllowed = policy.OtherTunnelProtocols == PolicyAction.Allow;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closed);
        timeout.CancelAfter(settings.ClientHelloTimeout);

        // Where other protocols are allowed, a destination that speaks first (SSH, SMTP) must not wait for the client:
        // until the client has sent a byte, the destination's first bytes end the wait.
        using var upstreamWait = othersAllowed ? CancellationTokenSource.CreateLinkedTokenSource(timeout.Token) : null;
        var upstreamWaiting = othersAllowed ? WaitForDataAsync(upstream, upstreamWait!.Token) : null;
        var upstreamSpoke = upstreamWaiting;
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    if (upstreamSpoke is null)
                    {
                        result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
                    }
                    else
                    {
                        var readTask = input.ReadAsync(timeout.Token).AsTask();
                        if (await Task.WhenAny(readTask, upstreamSpoke).ConfigureAwait(false) == upstreamSpoke && upstreamSpoke.Result)
                        {
                            // Ends the pending read; whatever it returns stays in the pipe for the relay.
                            input.CancelPendingRead();
                            await ((Task)readTask).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                            if (readTask.IsCompletedSuccessfully)
                            {
                                input.AdvanceTo(readTask.Result.Buffer.Start);
                            }

                            return FirstBytesCheck.Pass;
                        }

                        result = await readTask.ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException)
                {
                    // Nothing, or too little to decide, arrived in time.
                    return upstreamSpoke is not null
                        ? FirstBytesCheck.Pass
                        : new(ProxyError.ClientHelloInvalid, null, "neither a TLS ClientHello nor an HTTP/1.x request arrived in time");
                }

                var buffer = result.Buffer;
                if (buffer.IsEmpty && result.IsCompleted)
                {
                    // The client closed without sending anything: nothing can be fronted; the destination sees the close.
                    input.AdvanceTo(buffer.Start);
                    return FirstBytesCheck.Pass;
                }

                // Once the client has spoken, its bytes decide, whatever the destination sends meanwhile.
                upstreamSpoke = null;
                var check = Inspect(buffer, destination, settings, out var needMore);
                if (needMore && !result.IsCompleted)
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                }

                // Leave every byte in the pipe: the relay forwards them to the destination.
                input.AdvanceTo(buffer.Start);
                return check ?? new(ProxyError.ClientHelloInvalid, null, "the client closed before its ClientHello or request head was complete");
            }
        }
        finally
        {
            if (upstreamWaiting is not null)
            {
                // The wait ends as cancelled and reports false; the relay's own receives follow it.
                upstreamWait!.Cancel();
                await upstreamWaiting.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Decides on the client's first bytes, or says more are needed (<paramref name="needMore"/>, and null).</summary>
    private static FirstBytesCheck? Inspect(in ReadOnlySequence<byte> buffer, EgressTarget destination, RuntimeSettings settings, out bool needMore)
    {
        needMore = false;
        var mode = settings.Policy.SniMode;
        var tls = ClientHelloParser.TryParse(buffer, MaxClientHelloBytes, out var sni);
        switch (tls)
        {
            case ClientHelloParseStatus.Incomplete:
                needMore = true;
                return null;
            case ClientHelloParseStatus.Parsed:
                return CheckServerName(sni, destination, mode);
            case ClientHelloParseStatus.Malformed:
                return mode == SniMode.AllowMissing ? FirstBytesCheck.Pass : new(ProxyError.ClientHelloInvalid, null, "the TLS ClientHello is malformed");
        }

        var http = TunnelHttpHeadParser.TryParse(buffer, settings.MaxRequestHeadBytes, out var target, out var problem);
        switch (http)
        {
            case TunnelHttpHeadStatus.Incomplete:
                needMore = true;
                return null;
            case TunnelHttpHeadStatus.Malformed:
                return new(ProxyError.InvalidRequest, null, problem, AnswerInTunnel: true);
            case TunnelHttpHeadStatus.Parsed:
                var (error, detail) = TunnelHttpGuard.Check(target, destination, mode);
                return new(error, null, detail, AnswerInTunnel: true, Http: true);
            default:
                return settings.Policy.OtherTunnelProtocols == PolicyAction.Allow
                    ? FirstBytesCheck.Pass
                    : new(ProxyError.ClientHelloInvalid, null,
                        "the first bytes are neither a TLS ClientHello nor an HTTP/1.x request; Policy:OtherTunnelProtocols can allow other protocols");
        }
    }

    /// <summary>Completes with true when <paramref name="socket"/> has data to read (or its peer closed), false when cancelled.</summary>
    private static async Task<bool> WaitForDataAsync(System.Net.Sockets.Socket socket, CancellationToken cancellationToken)
    {
        try
        {
            await socket.ReceiveAsync(Memory<byte>.Empty, System.Net.Sockets.SocketFlags.None, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (System.Net.Sockets.SocketException)
        {
            // The relay meets the same failure and reports it.
            return true;
        }
    }

    /// <summary>Holds a ClientHello's SNI to the CONNECT host.</summary>
    private static FirstBytesCheck CheckServerName(string? sni, EgressTarget destination, SniMode mode)
    {
        if (sni is null)
        {
            // Clients send no SNI for an IP-literal host (RFC 6066 §3), so that is no mismatch.
            return destination.IsAddress || mode == SniMode.AllowMissing
                ? FirstBytesCheck.Pass
                : new(ProxyError.SniMismatch, null, "the ClientHello names no server");
        }

        // Compared in canonical form: case, a trailing dot and Unicode against punycode make no difference.
        return !destination.IsAddress && destination.IsHost(sni)
            ? new(ProxyError.None, sni, null)
            : new(ProxyError.SniMismatch, sni, sni);
    }

    /// <summary>Sends the error response for <paramref name="log"/>'s target and writes the access log line with the bytes that reached the client.</summary>
    internal async Task RefuseAsync(ClientSink sink, AccessLogEntry log, ProxyError error, string? detail, RuntimeSettings settings, CancellationToken closed,
        TimeSpan? retryAfter = null)
    {
        metrics.RecordError(ProxyErrorResponses.Code(error));
        var response = ProxyErrorResponses.RawResponse(error, log.Target, detail, settings.Realm, retryAfter);
        try
        {
            await sink.SendAsync(response, closed).ConfigureAwait(false);
            log.BytesDown = response.Length;
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Log.ClientGone(logger, log.Target);
        }

        Complete(log, error, detail);
    }

    /// <summary>Answers a refused request inside an open tunnel, after the 200, and counts the bytes the client got.</summary>
    private async Task SendInTunnelAsync(ClientSink sink, AccessLogEntry log, ProxyError error, string? detail, RuntimeSettings settings, CancellationToken closed)
    {
        var response = ProxyErrorResponses.RawResponse(error, log.Target, detail, settings.Realm);
        try
        {
            await sink.SendAsync(response, closed).ConfigureAwait(false);
            log.BytesDown += response.Length;
            await sink.ShutdownSendAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Log.ClientGone(logger, log.Target);
        }
    }

    /// <summary>
    /// Writes the tunnel's access log line: its one record, filled in as the tunnel went. The status is the one the
    /// client got: set already when a refusal came after the 200, otherwise the outcome's, mapped in one place.
    /// </summary>
    internal void Complete(AccessLogEntry log, ProxyError error, string? detail)
    {
        log.Duration = Stopwatch.GetElapsedTime(log.Started);
        log.Status = log.Status != 0 || log.ClientAborted ? log.Status : ProxyErrorResponses.StatusCode(error);
        log.Error = error;
        log.Detail = detail;
        accessLog.Write(log);
    }

    private static partial class Log
    {
        [LoggerMessage(200, LogLevel.Warning, "Tunnel from {Client} to {Target} closed: {Code} ({Detail})")]
        public static partial void TunnelRefused(ILogger logger, IPAddress? client, string target, string code, string detail);

        [LoggerMessage(201, LogLevel.Debug, "Client went away before the response for {Target} was sent")]
        public static partial void ClientGone(ILogger logger, string target);
    }
}
