using System.Net;
using System.Net.Sockets;

namespace EgressLab.ProxyInstance.Targets;

/// <summary>
/// Where a request or tunnel wants to go, in the one canonical form that every part of the proxy judges: the CONNECT
/// path and the absolute-form HTTP path parse their host into it, the policy decides on it, the dialer looks it up
/// and connects to it, and a tunnel's SNI or inner Host is compared with it. So every notation of one destination
/// (<c>Example.COM.</c>, <c>127.1</c>, <c>[::ffff:127.0.0.1]</c>) is judged the same on both paths.
/// </summary>
/// <param name="Host">
/// A DNS name in lower case, without a trailing dot, internationalised labels in punycode; or an IP address in its
/// standard text form (IPv6 without brackets), whatever notation the client used (WHATWG URL IPv4 forms included).
/// </param>
/// <param name="Address">The address when the host is an IP literal; null for a name.</param>
/// <param name="Port">The destination port, 1 to 65535.</param>
internal readonly record struct EgressTarget(string Host, IPAddress? Address, int Port)
{
    /// <summary>Whether the host is an IP literal rather than a name.</summary>
    public bool IsAddress => Address is not null;

    /// <summary>The host as it stands in a URI authority: IPv6 in brackets.</summary>
    public string UriHost => Address is { AddressFamily: AddressFamily.InterNetworkV6 } ? $"[{Host}]" : Host;

    /// <summary>
    /// Brings <paramref name="host"/> (a name or IP literal as a client wrote it, IPv6 with or without brackets) to the
    /// canonical form. False when it is neither a valid name nor an address: a numeric host that does not parse as one,
    /// or characters no host name may contain. Allocates only when the host was not already canonical.
    /// </summary>
    public static bool TryCreate(string host, int port, out EgressTarget target)
    {
        ArgumentNullException.ThrowIfNull(host);
        target = default;
        if (port is < 1 or > 65535)
        {
            return false;
        }

        switch (HostLiteral.Classify(host, out var address))
        {
            case HostKind.IpLiteral when address is not null:
                target = new EgressTarget(address.ToString(), address, port);
                return true;
            case HostKind.Name when TryCanonicalName(host, out var name):
                target = new EgressTarget(name, null, port);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Whether <paramref name="host"/>, in any notation, names this target's host.</summary>
    public bool IsHost(string host) => TryCreate(host, Port, out var other) && string.Equals(other.Host, Host, StringComparison.Ordinal);

    /// <summary>The canonical form of a DNS name: lower case, without the trailing dot, punycode.</summary>
    public static bool TryCanonicalName(string host, out string name)
    {
        Span<char> buffer = stackalloc char[HostName.MaxLength];
        if (HostName.Normalize(host, buffer, strict: false, out var written, out _) != HostNameStatus.Valid)
        {
            name = host;
            return false;
        }

        name = buffer[..written].SequenceEqual(host) ? host : new string(buffer[..written]);
        return true;
    }

    public override string ToString() => $"{UriHost}:{Port}";
}
