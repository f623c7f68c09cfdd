namespace EgressLab.ProxyInstance.Errors;

/// <summary>Why the proxy refused or failed a request or tunnel. One outcome per stage and side.</summary>
internal enum ProxyError
{
    None,

    /// <summary>The request head was malformed or not a proxy request.</summary>
    InvalidRequest,

    /// <summary>The request head was larger than <c>Limits:MaxRequestHeadBytes</c>.</summary>
    RequestHeadTooLarge,

    /// <summary>The request line was too long.</summary>
    RequestLineTooLong,

    /// <summary>The request used an HTTP version other than 1.0 or 1.1.</summary>
    VersionNotSupported,

    /// <summary>The client did not send a complete request head within <c>Timeouts:RequestHeaders</c>.</summary>
    RequestHeadersTimeout,

    /// <summary>The client stopped sending its request body: no byte arrived within <c>Timeouts:RequestBody</c>.</summary>
    RequestBodyTimeout,

    /// <summary>Authentication is configured and the request carried no valid credentials.</summary>
    AuthenticationRequired,

    /// <summary>A policy rule (or the default action) denied the request.</summary>
    AccessDenied,

    /// <summary>The destination address is private, loopback, link-local, metadata or the proxy's own.</summary>
    DestinationPrivate,

    /// <summary>The destination name did not resolve.</summary>
    DnsFailure,

    /// <summary>The DNS lookup took longer than <c>Timeouts:Dns</c>.</summary>
    DnsTimeout,

    /// <summary>Every resolved address refused or failed the TCP connection.</summary>
    ConnectFailed,

    /// <summary>The TCP connection to the destination took longer than <c>Timeouts:Connect</c>.</summary>
    ConnectTimeout,

    /// <summary>The destination accepted the connection but its response was broken or it hung up.</summary>
    UpstreamFailed,

    /// <summary>The destination did not start its response, or stopped in the middle of a body, for <c>Timeouts:UpstreamResponse</c>.</summary>
    UpstreamTimeout,

    /// <summary>The TLS ClientHello in a tunnel named a different server than the CONNECT host, or none.</summary>
    SniMismatch,

    /// <summary>
    /// The client did not send its TLS ClientHello (or plain HTTP/1.x request) in time, or sent a protocol that
    /// <c>Policy:OtherTunnelProtocols</c> does not allow.
    /// </summary>
    ClientHelloInvalid,

    /// <summary>A plain HTTP/1.x request inside a tunnel named a different host or port than the CONNECT target, or none.</summary>
    TunnelHostMismatch,

    /// <summary>The connection arrived while <c>Limits:MaxConnections</c> client connections were open.</summary>
    TooManyConnections,

    /// <summary>The client already had <c>Limits:MaxTunnelsPerClient</c> tunnels open.</summary>
    TooManyTunnels,

    /// <summary>The client went past <c>Limits:RequestsPerSecondPerClient</c> and its burst.</summary>
    RateLimited,
}
