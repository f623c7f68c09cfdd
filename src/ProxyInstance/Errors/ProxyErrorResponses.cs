using System.Net;

namespace EgressLab.ProxyInstance.Errors;

/// <summary>The one place that maps an outcome to a status code, a stable code and a short text.</summary>
internal static class ProxyErrorResponses
{
    public const string ErrorHeader = "X-Proxy-Error";

    public static int StatusCode(ProxyError error) => error switch
    {
        ProxyError.None => StatusCodes.Status200OK,
        ProxyError.InvalidRequest => StatusCodes.Status400BadRequest,
        ProxyError.RequestHeadTooLarge => StatusCodes.Status431RequestHeaderFieldsTooLarge,
        ProxyError.RequestLineTooLong => StatusCodes.Status414UriTooLong,
        ProxyError.VersionNotSupported => StatusCodes.Status505HttpVersionNotsupported,
        ProxyError.RequestHeadersTimeout or ProxyError.RequestBodyTimeout => StatusCodes.Status408RequestTimeout,
        ProxyError.AuthenticationRequired => StatusCodes.Status407ProxyAuthenticationRequired,
        ProxyError.AccessDenied or ProxyError.DestinationPrivate or ProxyError.SniMismatch or ProxyError.ClientHelloInvalid
            or ProxyError.TunnelHostMismatch => StatusCodes.Status403Forbidden,
        ProxyError.DnsFailure or ProxyError.ConnectFailed or ProxyError.UpstreamFailed => StatusCodes.Status502BadGateway,
        ProxyError.DnsTimeout or ProxyError.ConnectTimeout or ProxyError.UpstreamTimeout => StatusCodes.Status504GatewayTimeout,
        ProxyError.TooManyConnections => StatusCodes.Status503ServiceUnavailable,
        ProxyError.TooManyTunnels or ProxyError.RateLimited => StatusCodes.Status429TooManyRequests,
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, null),
    };

    /// <summary>The stable code sent in <c>X-Proxy-Error</c>, logged and counted. Never change one once shipped.</summary>
    public static string Code(ProxyError error) => error switch
    {
        ProxyError.None => "OK",
        ProxyError.InvalidRequest => "ERR_INVALID_REQUEST",
        ProxyError.RequestHeadTooLarge => "ERR_HEAD_TOO_LARGE",
        ProxyError.RequestLineTooLong => "ERR_URI_TOO_LONG",
        ProxyError.VersionNotSupported => "ERR_VERSION",
        ProxyError.RequestHeadersTimeout => "ERR_REQUEST_TIMEOUT",
        ProxyError.RequestBodyTimeout => "ERR_BODY_TIMEOUT",
        ProxyError.AuthenticationRequired => "ERR_AUTH_REQUIRED",
        ProxyError.AccessDenied => "ERR_ACCESS_DENIED",
        ProxyError.DestinationPrivate => "ERR_DESTINATION_PRIVATE",
        ProxyError.DnsFailure => "ERR_DNS_FAIL",
        ProxyError.DnsTimeout => "ERR_DNS_TIMEOUT",
        ProxyError.ConnectFailed => "ERR_CONNECT_FAIL",
        ProxyError.ConnectTimeout => "ERR_CONNECT_TIMEOUT",
        ProxyError.UpstreamFailed => "ERR_UPSTREAM_FAIL",
        ProxyError.UpstreamTimeout => "ERR_UPSTREAM_TIMEOUT",
        ProxyError.SniMismatch => "ERR_SNI_MISMATCH",
        ProxyError.ClientHelloInvalid => "ERR_CLIENT_HELLO",
        ProxyError.TunnelHostMismatch => "ERR_TUNNEL_HOST_MISMATCH",
        ProxyError.TooManyConnections => "ERR_TOO_MANY_CONNECTIONS",
        ProxyError.TooManyTunnels => "ERR_TOO_MANY_TUNNELS",
        ProxyError.RateLimited => "ERR_RATE_LIMITED",
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, null),
    };

    /// <summary>The Squid result tag for the access log, e.g. <c>TCP_DENIED</c>.</summary>
    public static string SquidTag(ProxyError error, bool tunnel) => error switch
    {
        ProxyError.None => tunnel ? "TCP_TUNNEL" : "TCP_MISS",
        ProxyError.AuthenticationRequired or ProxyError.AccessDenied or ProxyError.DestinationPrivate
            or ProxyError.SniMismatch or ProxyError.ClientHelloInvalid or ProxyError.TunnelHostMismatch or ProxyError.TooManyConnections
            or ProxyError.TooManyTunnels or ProxyError.RateLimited => "TCP_DENIED",
        ProxyError.InvalidRequest or ProxyError.RequestHeadTooLarge or ProxyError.RequestLineTooLong
            or ProxyError.VersionNotSupported or ProxyError.RequestHeadersTimeout => "NONE_NONE",
        _ => tunnel ? "TCP_TUNNEL" : "TCP_MISS",
    };

    /// <summary>A one-line human explanation naming the target and the reason.</summary>
    public static string Describe(ProxyError error, string target, string? detail) => error switch
    {
        ProxyError.InvalidRequest => $"Bad request: {detail ?? "the request is not a valid proxy request"}.",
        ProxyError.RequestHeadTooLarge => "The request head is too large.",
        ProxyError.RequestLineTooLong => "The request line is too long.",
        ProxyError.VersionNotSupported => "Only HTTP/1.0 and HTTP/1.1 are supported.",
        ProxyError.RequestHeadersTimeout => "The request head did not arrive in time.",
        ProxyError.RequestBodyTimeout => $"The request body for {target} stopped arriving{Suffix(detail)}.",
        ProxyError.AuthenticationRequired => $"Access to {target} requires proxy authentication: send Basic credentials in Proxy-Authorization.",
        ProxyError.AccessDenied => $"Access to {target} is denied by the proxy policy ({detail ?? "no rule allows it"}).",
        ProxyError.DestinationPrivate => $"Access to {target} is denied: it resolves to {detail ?? "a private address"}, and private destinations are not allowed.",
        ProxyError.DnsFailure => $"Cannot resolve {target}{Suffix(detail)}.",
        ProxyError.DnsTimeout => $"Resolving {target} timed out.",
        ProxyError.ConnectFailed => $"Cannot connect to {target}{Suffix(detail)}.",
        ProxyError.ConnectTimeout => $"Connecting to {target} timed out.",
        ProxyError.UpstreamFailed => $"The server at {target} failed to answer{Suffix(detail)}.",
        ProxyError.UpstreamTimeout => $"The server at {target} did not answer in time.",
        ProxyError.SniMismatch => $"The TLS server name {detail ?? "(none)"} does not match the CONNECT host {target}.",
        ProxyError.ClientHelloInvalid => $"The tunnel to {target} did not start with a TLS ClientHello{Suffix(detail)}.",
        ProxyError.TunnelHostMismatch => $"The request inside the tunnel to {target} is for {detail ?? "no host"}, not the CONNECT target; open a tunnel to that host instead.",
        ProxyError.TooManyConnections => $"The proxy is refusing new connections{Suffix(detail)}; retry later.",
        ProxyError.TooManyTunnels => $"No tunnel to {target}{Suffix(detail)}; close one and retry.",
        ProxyError.RateLimited => $"Too many requests from this client{Suffix(detail)}; retry later.",
        _ => $"{Code(error)} {target}",
    };

    private static string Suffix(string? detail) => detail is null ? string.Empty : $": {detail}";

    /// <summary>Writes the complete error response for the plain-HTTP path.</summary>
    public static Task WriteAsync(HttpContext context, ProxyError error, string target, string? detail, string? realm, CancellationToken cancellationToken,
        TimeSpan? retryAfter = null)
    {
        var response = context.Response;
        response.StatusCode = StatusCode(error);
        response.Headers[ErrorHeader] = Code(error);
        response.Headers.CacheControl = "no-store";
        if (error == ProxyError.AuthenticationRequired)
        {
            response.Headers.ProxyAuthenticate = $"Basic realm=\"{realm}\", charset=\"UTF-8\"";
        }

        if (retryAfter is { } wait)
        {
            response.Headers.RetryAfter = RetryAfterSeconds(wait);
        }

        // Whatever follows a refused or unfinished request head or body cannot be framed safely: close the connection.
        // Past the connection limit, the connection is not kept either.
        if (error is ProxyError.InvalidRequest or ProxyError.RequestHeadTooLarge or ProxyError.RequestLineTooLong
            or ProxyError.VersionNotSupported or ProxyError.RequestHeadersTimeout or ProxyError.RequestBodyTimeout
            or ProxyError.TooManyConnections)
        {
            response.Headers.Connection = "close";
        }

        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(Describe(error, target, detail) + "\n", cancellationToken);
    }

    /// <summary>The complete raw HTTP/1.1 error response for the tunnel path, which writes bytes itself.</summary>
    public static byte[] RawResponse(ProxyError error, string target, string? detail, string? realm, TimeSpan? retryAfter = null)
    {
        var status = StatusCode(error);
        var body = Describe(error, target, detail) + "\n";
        var bodyBytes = System.Text.Encoding.UTF8.GetByteCount(body);
        var auth = error == ProxyError.AuthenticationRequired ? $"Proxy-Authenticate: Basic realm=\"{realm}\", charset=\"UTF-8\"\r\n" : string.Empty;
        var retry = retryAfter is { } wait ? $"Retry-After: {RetryAfterSeconds(wait)}\r\n" : string.Empty;
        var head = $"HTTP/1.1 {status} {ReasonPhrase(status)}\r\n{ErrorHeader}: {Code(error)}\r\n{auth}{retry}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {bodyBytes}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
        return System.Text.Encoding.UTF8.GetBytes(head + body);
    }

    // RFC 9110 §10.2.3: delay-seconds, a whole number; rounded up so a client that waits that long gets through.
    private static string RetryAfterSeconds(TimeSpan wait) =>
        ((long)Math.Max(1, Math.Ceiling(wait.TotalSeconds))).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase
        ? phrase
        : ((HttpStatusCode)status).ToString();
}
