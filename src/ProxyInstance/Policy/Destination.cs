using System.Net;
using System.Net.Sockets;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Policy;

/// <summary>A request's destination, classified once per decision: a normalised name, an IP literal, or neither.</summary>
internal readonly ref struct Destination
{
    private Destination(ReadOnlySpan<char> name, IPAddress? address)
    {
        Name = name;
        Address = address;
    }

    /// <summary>The normalised name (see <see cref="HostName.Normalize"/>); empty when the destination is not a valid name.</summary>
    public ReadOnlySpan<char> Name { get; }

    /// <summary>The address when the destination is an IP literal.</summary>
    public IPAddress? Address { get; }

    public bool IsName => !Name.IsEmpty;

    /// <summary>Classifies <paramref name="host"/>, writing a normalised name into <paramref name="buffer"/> (at least <see cref="HostName.MaxLength"/> long).</summary>
    /// <remarks>
    /// IPv6 literals (bracketed or not) are recognised by their colon, which no DNS name contains. Anything else
    /// that <see cref="IPAddress.TryParse(ReadOnlySpan{char}, out IPAddress?)"/> accepts, with or without one
    /// trailing dot, is an IPv4 literal, odd forms such as <c>127.1</c>, <c>2130706433</c> or <c>0x7f.1</c>
    /// included: the resolver (<c>Dns.GetHostAddresses</c>, and inet_aton behind getaddrinfo) reads them as
    /// addresses, so judging them as names would let them slip past DestinationCidrs. A host that is neither a
    /// literal nor a valid name matches no Domains or DestinationCidrs condition.
    /// </remarks>
    public static Destination Classify(string? host, Span<char> buffer)
    {
        ReadOnlySpan<char> span = host;
        if (span.Length > 2 && span[0] == '[' && span[^1] == ']')
        {
            return new Destination(default, TryParseIPv6(span[1..^1]));
        }

        if (span.Contains(':'))
        {
            return new Destination(default, TryParseIPv6(span));
        }

        // Every IPv4 form starts with a digit; checking that first keeps the parser off ordinary names.
        if (span.Length > 0 && char.IsAsciiDigit(span[0]))
        {
            var withoutDot = span[^1] == '.' ? span[..^1] : span;
            if (IPAddress.TryParse(withoutDot, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork)
            {
                return new Destination(default, v4);
            }
        }

        return HostName.Normalize(span, buffer, strict: false, out var written, out _) == HostNameStatus.Valid
            ? new Destination(buffer[..written], null)
            : default;
    }

    private static IPAddress? TryParseIPv6(ReadOnlySpan<char> span) =>
        IPAddress.TryParse(span, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 ? address : null;
}
