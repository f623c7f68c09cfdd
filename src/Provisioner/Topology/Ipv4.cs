using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EgressLab.Provisioner.Topology;

/// <summary>Strict IPv4 notation and the range arithmetic the topology rules need (RFC 4632 section 3.1).</summary>
internal static class Ipv4
{
    /// <summary>
    /// Parses four decimal octets without leading zeros. <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>
    /// also reads <c>10.1</c> as 10.0.0.1 and <c>010.0.0.1</c> as octal, which in a topology file are typos.
    /// </summary>
    public static bool TryParseAddress(string text, out IPAddress address, out string problem)
    {
        address = IPAddress.None;
        if (text.Contains(':', StringComparison.Ordinal))
        {
            problem = $"'{text}' is an IPv6 address; the topology is IPv4 only";
            return false;
        }

        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            problem = $"'{text}' is not an IPv4 address (four numbers 0-255 separated by dots)";
            return false;
        }

        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < 4; i++)
        {
            var part = parts[i];
            if (part.Length is 0 or > 3 || !part.All(char.IsAsciiDigit) || (part.Length > 1 && part[0] == '0')
                || !byte.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out bytes[i]))
            {
                problem = $"'{text}' is not an IPv4 address: '{part}' must be a number from 0 to 255 without leading zeros";
                return false;
            }
        }

        address = new IPAddress(bytes);
        problem = string.Empty;
        return true;
    }

    /// <summary>
    /// Parses <c>address/prefix</c>. When host bits are set below the prefix it still returns true with the network
    /// the author most likely meant in <paramref name="network"/>, and says so in <paramref name="problem"/>, so that
    /// the caller reports it without losing the value for the checks that follow.
    /// </summary>
    public static bool TryParseCidr(string text, out IPNetwork network, out string problem, out string fix)
    {
        network = default;
        fix = "Write it as address/prefix";
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            problem = text.Contains(':', StringComparison.Ordinal)
                ? $"'{text}' is an IPv6 address; the topology is IPv4 only"
                : $"'{text}' has no prefix length";
            fix = $"Write it as address/prefix ({text}/32 for one address)";
            return false;
        }

        if (!TryParseAddress(text[..slash], out var address, out problem))
        {
            problem = $"'{text}' is not an IPv4 CIDR block: {problem}";
            return false;
        }

        var prefixText = text[(slash + 1)..];
        if (prefixText.Length is 0 or > 2 || !prefixText.All(char.IsAsciiDigit)
            || !int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix > 32)
        {
            problem = $"'{text}' is not an IPv4 CIDR block: the prefix length after '/' must be a number from 0 to 32";
            return false;
        }

        var value = ToUInt32(address);
        var masked = value & Mask(prefix);
        network = new IPNetwork(FromUInt32(masked), prefix);
        if (masked != value)
        {
            problem = $"'{text}' has host bits set below the /{prefix.ToString(CultureInfo.InvariantCulture)} prefix, so it is not a network address";
            fix = $"Use the network address {network}.";
            return true;
        }

        problem = string.Empty;
        fix = string.Empty;
        return true;
    }

    public static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        return address.AddressFamily == AddressFamily.InterNetwork && address.TryWriteBytes(bytes, out _)
            ? BinaryPrimitives.ReadUInt32BigEndian(bytes)
            : 0;
    }

    public static IPAddress FromUInt32(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }

    public static uint Mask(int prefix) => prefix <= 0 ? 0 : uint.MaxValue << (32 - prefix);

    public static uint First(IPNetwork network) => ToUInt32(network.BaseAddress);

    public static uint Last(IPNetwork network) => First(network) | ~Mask(network.PrefixLength);

    public static IPAddress Broadcast(IPNetwork network) => FromUInt32(Last(network));

    /// <summary>True when <paramref name="inner"/> lies wholly inside <paramref name="outer"/>.</summary>
    public static bool Contains(IPNetwork outer, IPNetwork inner) =>
        inner.PrefixLength >= outer.PrefixLength && outer.Contains(inner.BaseAddress);

    public static bool Overlaps(IPNetwork a, IPNetwork b) => a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress);
}
