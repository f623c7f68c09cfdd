using System.Globalization;

namespace EgressLab.LoadTests.Measurement;

/// <summary>How a request failed, by the stage that failed: the classes of <c>ScenarioResult.Errors</c>.</summary>
internal enum RequestError
{
    None,

    /// <summary>The client could not resolve a name (the origin's, or the proxy's).</summary>
    Dns,

    /// <summary>The TCP connection (to the origin, or to the proxy) was refused or unreachable.</summary>
    Connect,

    /// <summary>The proxy answered CONNECT with a status other than 2xx.</summary>
    ConnectRefused,

    /// <summary>The TLS handshake failed: an untrusted or mismatched certificate, or a broken handshake.</summary>
    Tls,

    /// <summary>No complete answer within the request timeout, or the run ended before one came.</summary>
    Timeout,

    /// <summary>The connection was reset or closed before the response was complete.</summary>
    Reset,

    /// <summary>The origin (or, for plain HTTP, the proxy) answered with a status other than 2xx.</summary>
    HttpStatus,

    /// <summary>A 2xx response whose body is not the size the origin contract promises.</summary>
    BodySize,

    Other,
}

internal static class RequestErrorNames
{
    public const string Dns = "dns";
    public const string Connect = "connect";
    public const string ConnectRefused = "connect-refused";
    public const string Tls = "tls";
    public const string Timeout = "timeout";
    public const string Reset = "reset";
    public const string BodySize = "body-size";
    public const string Other = "other";

    /// <summary>The class name used in results: <c>http-404</c> for a status, else the fixed names above.</summary>
    public static string Of(RequestError error, int statusCode) => error switch
    {
        RequestError.Dns => Dns,
        RequestError.Connect => Connect,
        RequestError.ConnectRefused => ConnectRefused,
        RequestError.Tls => Tls,
        RequestError.Timeout => Timeout,
        RequestError.Reset => Reset,
        RequestError.HttpStatus => "http-" + statusCode.ToString(CultureInfo.InvariantCulture),
        RequestError.BodySize => BodySize,
        RequestError.Other => Other,
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, null),
    };
}
