namespace EgressLab.ProxyInstance.Tunnel;

/// <summary>A validated CONNECT request head (RFC 9110 §9.3.6), as produced by <see cref="ConnectRequestParser"/>.</summary>
/// <remarks>
/// Values are as the client wrote them: the caller normalises the host (case, trailing dot) before matching it against policy.
/// </remarks>
internal sealed class ConnectRequest
{
    public ConnectRequest(string host, int port, bool hostIsBracketedIPv6, string rawAuthority, Version version, string? proxyAuthorization, string? userAgent)
    {
        Host = host;
        Port = port;
        HostIsBracketedIPv6 = hostIsBracketedIPv6;
        RawAuthority = rawAuthority;
        Version = version;
        ProxyAuthorization = proxyAuthorization;
        UserAgent = userAgent;
    }

    /// <summary>The host, original case, without the brackets of an IPv6 literal: a reg-name, a dotted-quad IPv4 literal or an IPv6 literal.</summary>
    public string Host { get; }

    /// <summary>The port, 1 to 65535.</summary>
    public int Port { get; }

    /// <summary>Whether the authority was an IP-literal (<c>[...]</c>, RFC 3986 §3.2.2); <see cref="Host"/> is then an IPv6 address.</summary>
    public bool HostIsBracketedIPv6 { get; }

    /// <summary>The request-target exactly as sent, e.g. <c>example.com:443</c> or <c>[::1]:443</c>; for logs.</summary>
    public string RawAuthority { get; }

    /// <summary>HTTP/1.0 or HTTP/1.1.</summary>
    public Version Version { get; }

    /// <summary>The value of the single Proxy-Authorization field, without surrounding whitespace; null when absent.</summary>
    public string? ProxyAuthorization { get; }

    /// <summary>The value of the single User-Agent field, without surrounding whitespace; null when absent.</summary>
    public string? UserAgent { get; }
}
