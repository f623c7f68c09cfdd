using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using EgressLab.ProxyInstance.AccessLog;
using EgressLab.ProxyInstance.Admission;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Errors;
using EgressLab.ProxyInstance.Limits;
using EgressLab.ProxyInstance.Metrics;
using EgressLab.ProxyInstance.Tunnel;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;
using EgressLab.ProxyInstance.Connections;

namespace EgressLab.ProxyInstance.Forwarding;

/// <summary>
/// The plain-HTTP path: an absolute-form request is authenticated, decided by the policy and, when allowed,
/// forwarded with YARP's <see cref="IHttpForwarder"/> through the <see cref="EgressHttpClient"/>.
/// Bodies stream in both directions; nothing is buffered whole. It is the end of the pipeline: every request
/// that reaches it is answered here.
/// </summary>
internal sealed partial class ForwardProxyHandler(
    RuntimeSettingsStore settingsStore,
    IHttpForwarder forwarder,
    EgressHttpClient httpClient,
    ProxyMetrics metrics,
    AccessLogWriter accessLog,
    TimeProvider timeProvider,
    TunnelHandler tunnels,
    AdmissionGate gate,
    ILogger<ForwardProxyHandler> logger)
{
    private const string ClientWentAway = "client went away";

    // One reference, so that a reload racing a request never pairs one generation's settings with another's config.
    private CachedRequestConfig? _requestConfig;

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = settingsStore.Current;
        var started = Stopwatch.GetTimestamp();
        var time = timeProvider.GetUtcNow();
        var request = context.Request;
        var client = context.Connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : context.Connection.RemoteIpAddress;
        var connection = context.Features.Get<PlainHttpConnection>();
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.ToString();
        if (HttpMethods.IsConnect(request.Method) && connection is { OverConnectionLimit: false } && TunnelHandler.HandOverProblem(request, rawTarget) is null)
        {
            // A tunnel asked for on a connection Kestrel already serves: it writes its own access log line.
            var (input, output) = connection.HandOver();
            await tunnels.HandOverAsync(context, input, output, settings, client, time, started).ConfigureAwait(false);
            return;
        }

        var recorder = connection?.Recorder;
        var nominated = recorder?.BeginRequest(request.Method, rawTarget, request.Protocol);
        var entry = new AccessLogEntry
        {
            Time = time,
            Duration = TimeSpan.Zero,
            Client = client,
            Method = request.Method,
            Target = rawTarget,
            Tunnel = false,
            Status = 0,
            Error = ProxyError.None,
            Decision = DecisionLabels.None,
        };

        // Most forwarded requests (GET, HEAD) have no body: nothing to time or count on that side.
        var hasBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false;
        using var bodyTimeout = hasBody ? new RequestBodyTimeoutStream(request.Body, settings.RequestBodyTimeout, timeProvider) : null;
        var requestBody = bodyTimeout is null ? null : new CountingStream(bodyTimeout);
        var responseBody = new CountingStream(context.Response.Body);
        // A WebSocket relays its bytes on the stream the upgrade returns, not on the bodies.
        var upgrade = CountingUpgradeFeature.Install(context.Features);
        if (requestBody is not null)
        {
            request.Body = requestBody;
        }

        context.Response.Body = responseBody;
        try
        {
            await ForwardAsync(context, connection, settings, client, rawTarget, nominated, entry, bodyTimeout).ConfigureAwait(false);
        }
        finally
        {
            recorder?.EndRequest();
            entry.Duration = Stopwatch.GetElapsedTime(started);
            // A client that left before the response began got no status at all, whatever the server side set.
            entry.Status = entry.ClientAborted && !context.Response.HasStarted ? 0
                : entry.Status == 0 ? context.Response.StatusCode : entry.Status;
            entry.BytesUp = (requestBody?.BytesRead ?? 0) + (upgrade?.BytesUp ?? 0);
            entry.BytesDown = responseBody.BytesWritten + (upgrade?.BytesDown ?? 0);
            entry.ContentType = context.Response.ContentType;
            metrics.AddBytes(entry.BytesUp, entry.BytesDown);
            accessLog.Write(entry);
        }
    }

    /// <summary>Fills in <paramref name="entry"/> as the request goes, and answers the client when it fails.</summary>
    /// <remarks>Pooled: every forwarded request runs it, and most complete asynchronously.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ForwardAsync(HttpContext context, PlainHttpConnection? connection, RuntimeSettings settings, IPAddress? client,
        string rawTarget, IReadOnlyList<string>? nominated, AccessLogEntry entry, RequestBodyTimeoutStream? bodyTimeout)
    {
        var aborted = context.RequestAborted;
        if (connection is { OverConnectionLimit: true })
        {
            await FailAsync(context, entry, ProxyError.TooManyConnections, rawTarget,
                ClientLimits.TooManyConnectionsDetail(settingsStore.Startup.MaxConnections), settings, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            return;
        }

        if (HttpMethods.IsConnect(context.Request.Method))
        {
            // A CONNECT that cannot be handed over to a tunnel; without the connection wrappers (never on the proxy
            // listener), none can.
            var detail = connection is null
                ? "CONNECT must be the first request on a connection; open a new connection for the tunnel"
                : TunnelHandler.HandOverProblem(context.Request, rawTarget);
            await FailAsync(context, entry, ProxyError.InvalidRequest, rawTarget, detail, settings).ConfigureAwait(false);
            return;
        }

        if (FramingProblem(context.Request.Headers) is { } framing)
        {
            await FailAsync(context, entry, ProxyError.InvalidRequest, rawTarget, framing, settings).ConfigureAwait(false);
            return;
        }

        switch (ProxyTarget.TryParse(rawTarget, out var target))
        {
            case ProxyTargetError.NotAbsolute:
                await FailAsync(context, entry, ProxyError.InvalidRequest, rawTarget,
                    "this is a forward proxy: send an absolute URL such as GET http://example.com/ (set http_proxy), or use CONNECT for HTTPS", settings).ConfigureAwait(false);
                return;
            case ProxyTargetError.UnsupportedScheme:
                await FailAsync(context, entry, ProxyError.InvalidRequest, rawTarget,
                    "only http:// URLs are forwarded; use CONNECT for HTTPS (set https_proxy)", settings).ConfigureAwait(false);
                return;
            case ProxyTargetError.InvalidAuthority:
                await FailAsync(context, entry, ProxyError.InvalidRequest, rawTarget,
                    "the URL's authority must be host[:port] with a port from 1 to 65535, without userinfo", settings).ConfigureAwait(false);
                return;
        }

        var admission = gate.Admit(
            new AdmissionRequest(client ?? IPAddress.None, context.Request.Method, target.Host, target.Port, context.Request.Headers.ProxyAuthorization, AdmissionPath.Http),
            settings);
        entry.Admitted(admission);
        if (!admission.IsAdmitted)
        {
            await FailAsync(context, entry, admission.Error, rawTarget, admission.Detail, settings, admission.RetryAfter).ConfigureAwait(false);
            return;
        }

        var destination = admission.Target;
        var uriHost = destination.UriHost;
        var prefix = target.Port == 80 ? $"http://{uriHost}" : $"http://{uriHost}:{target.Port}";
        if (!Uri.TryCreate(prefix + target.PathAndQuery, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }, out var requestUri))
        {
            await FailAsync(context, entry, ProxyError.InvalidRequest, rawTarget, "the URL cannot be parsed", settings).ConfigureAwait(false);
            return;
        }

        // Undone when this method returns: the flow's trace is this request's only while it is forwarded.
        var trace = new EgressTrace();
        EgressTrace.Current = trace;
        var transformer = new ForwardingTransformer(requestUri, nominated, settings.AddVia, settings.AddXForwardedFor);
        ForwarderError error;
        using (var lease = httpClient.Acquire())
        {
            error = await forwarder.SendAsync(context, prefix, lease.Invoker, RequestConfig(settings), transformer, aborted).ConfigureAwait(false);
        }

        entry.Dialled(trace.Result);
        if (error == ForwarderError.None)
        {
            return;
        }

        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        var egress = EgressHttpClient.FindEgressException(exception);
        var (outcome, why) = egress is not null
            ? (egress.Result.Error, egress.Result.Detail)
            : error switch
            {
                ForwarderError.RequestTimedOut => (ProxyError.UpstreamTimeout, (string?)null),
                ForwarderError.RequestBodyClient => RequestBodyFailure(context, exception, bodyTimeout, settings),

                // YARP blames the side it was waiting on when its activity timeout expires mid-body, so a cancellation
                // while reading the response is the origin going quiet, not a broken response; the client leaving is
                // reported as ResponseBodyCanceled instead.
                ForwarderError.ResponseBodyDestination when exception is OperationCanceledException => (ProxyError.UpstreamTimeout, null),
                ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
                    or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient => (ProxyError.None, ClientWentAway),

                // After a 101 the exchange is two byte streams that end when either side closes; RFC 6455 §7.1.1 lets a
                // WebSocket client close the connection once the close handshake is done. Kestrel cancels the request as
                // soon as the client's side closes, and YARP reports the copy it was still waiting on as canceled: the
                // normal end of an upgraded connection, not the origin failing.
                ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled => (ProxyError.None, null),
                ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeResponseClient => (ProxyError.None, ClientWentAway),
                ForwarderError.UpgradeActivityTimeout => (ProxyError.UpstreamTimeout, null),
                _ => (ProxyError.UpstreamFailed, exception?.Message),
            };
        if (egress is not null)
        {
            entry.Dialled(egress.Result);
        }

        if (outcome == ProxyError.None && why is null)
        {
            // An upgraded connection that closed: nothing failed.
            return;
        }

        Log.ForwardFailed(logger, rawTarget, error, ProxyErrorResponses.Code(outcome), why ?? "-");
        if (outcome == ProxyError.None || context.Response.HasStarted)
        {
            // The client left, or the response was already under way: YARP has aborted the connection.
            entry.Error = outcome;
            entry.Detail = why;
            entry.ClientAborted = outcome == ProxyError.None && string.Equals(why, ClientWentAway, StringComparison.Ordinal);
            return;
        }

        await FailAsync(context, entry, outcome, rawTarget, why, settings).ConfigureAwait(false);
    }

    /// <summary>The forwarder's settings for a request, made once per settings generation rather than per request.</summary>
    private ForwarderRequestConfig RequestConfig(RuntimeSettings settings)
    {
        if (_requestConfig is { } cached && ReferenceEquals(cached.Settings, settings))
        {
            return cached.Config;
        }

        var config = new ForwarderRequestConfig
        {
            ActivityTimeout = settings.UpstreamResponseTimeout,
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        _requestConfig = new CachedRequestConfig(settings, config);
        return config;
    }

    /// <summary>
    /// Refuses body framing that intermediaries could read differently (RFC 9112 §6.1, §6.3), which Kestrel lets through:
    /// Transfer-Encoding together with Content-Length, and any transfer coding but a single <c>chunked</c>. Kestrel
    /// rejects the rest itself: conflicting or malformed Content-Length, and a final coding other than chunked.
    /// </summary>
    private static string? FramingProblem(IHeaderDictionary headers)
    {
        var transferEncoding = headers.TransferEncoding;
        if (transferEncoding.Count == 0)
        {
            return null;
        }

        // Kestrel serves such a request by its chunked framing and moves Content-Length aside to X-Content-Length
        // (dotnet/aspnetcore#43523). A client that sends X-Content-Length of its own with a chunked body is refused too.
        if (headers.ContentLength is not null || headers.ContainsKey("X-Content-Length"))
        {
            return "a request must not carry both Transfer-Encoding and Content-Length";
        }

        // The forwarder decodes chunked and nothing else, and re-frames the body: a body under another coding
        // (gzip, chunked) would reach the origin still encoded and labelled as plain data.
        if (transferEncoding.Count != 1 || !transferEncoding[0].AsSpan().Trim(" \t").Equals("chunked", StringComparison.OrdinalIgnoreCase))
        {
            return "the only Transfer-Encoding forwarded is a single \"chunked\"";
        }

        return null;
    }

    /// <summary>
    /// YARP reports every failed read of the client's body as <see cref="ForwarderError.RequestBodyClient"/>; this tells
    /// a stall, a malformed body and a client that left apart. In each case the upstream request has been aborted.
    /// </summary>
    private static (ProxyError Error, string? Detail) RequestBodyFailure(
        HttpContext context, Exception? exception, RequestBodyTimeoutStream? bodyTimeout, RuntimeSettings settings)
    {
        if (bodyTimeout is { TimedOut: true })
        {
            return (ProxyError.RequestBodyTimeout, Stalled(settings.RequestBodyTimeout));
        }

        // Kestrel's verdict on the body's framing: a chunk size that is not hex, a body cut short.
        if (Find<BadHttpRequestException>(exception) is { } badRequest)
        {
            var detail = badRequest.Message.TrimEnd('.');
            return (badRequest.StatusCode == StatusCodes.Status408RequestTimeout ? ProxyError.RequestBodyTimeout : ProxyError.InvalidRequest, detail);
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            return (ProxyError.None, ClientWentAway);
        }

        // YARP's activity timeout (Timeouts:UpstreamResponse) ran out while the forwarder waited for the client's next
        // body bytes: a client stall as well, whichever of the two limits is shorter.
        if (Find<OperationCanceledException>(exception) is not null)
        {
            return (ProxyError.RequestBodyTimeout, Stalled(settings.UpstreamResponseTimeout));
        }

        // The client is still there, so the read failed on what it sent: Kestrel reports some framing errors, such as
        // a chunk size that overflows, as a plain IOException.
        return Find<IOException>(exception) is { } io
            ? (ProxyError.InvalidRequest, io.Message.TrimEnd('.'))
            : (ProxyError.None, ClientWentAway);

        static string Stalled(TimeSpan limit) => $"no byte arrived for {limit.TotalSeconds:0.###} s";
    }

    private static T? Find<T>(Exception? exception)
        where T : Exception
    {
        switch (exception)
        {
            case null:
                return null;
            case T found:
                return found;
            case AggregateException aggregate:
                foreach (var inner in aggregate.InnerExceptions)
                {
                    if (Find<T>(inner) is { } match)
                    {
                        return match;
                    }
                }

                return null;
            default:
                return Find<T>(exception.InnerException);
        }
    }

    private async Task FailAsync(HttpContext context, AccessLogEntry entry, ProxyError error, string target, string? detail, RuntimeSettings settings,
        TimeSpan? retryAfter = null)
    {
        metrics.RecordError(ProxyErrorResponses.Code(error));
        context.Response.Headers.Remove(HeaderNames.ContentLength);
        await ProxyErrorResponses.WriteAsync(context, error, target, detail, settings.Realm, context.RequestAborted, retryAfter).ConfigureAwait(false);
        entry.Error = error;
        entry.Status = ProxyErrorResponses.StatusCode(error);
        entry.Detail = detail;
    }

    private sealed record CachedRequestConfig(RuntimeSettings Settings, ForwarderRequestConfig Config);

    private static partial class Log
    {
        [LoggerMessage(400, LogLevel.Information, "Forwarding {Target} failed at {Stage}: {Code} ({Detail})")]
        public static partial void ForwardFailed(ILogger logger, string target, ForwarderError stage, string code, string detail);
    }
}
