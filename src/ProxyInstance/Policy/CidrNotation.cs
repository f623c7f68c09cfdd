using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EgressLab.ProxyInstance.Policy;

/// <summary>Parses the CIDRs written in policy configuration (RFC 4632 section 3.1 for IPv4, RFC 4291 section 2.3 for IPv6).</summary>
internal static class CidrNotation
{
    /// <summary>
    /// Parses <c>address/prefix</c>, or a bare address meaning <c>/32</c> or <c>/128</c>; on failure
    /// <paramref name="error"/> says what is wrong and how to fix it.
    /// </summary>
    /// <remarks>
    /// Stricter than <see cref="IPNetwork.TryParse(string?, out IPNetwork)"/> on purpose: IPv4 must be four decimal
    /// octets without leading zeros (the system parser reads <c>010.0.0.0</c> as octal and <c>10/8</c> as
    /// <c>0.0.0.10</c>), zone indexes are refused, and host bits below the prefix are an error rather than silently
    /// cleared, because <c>10.10.2.1/24</c> usually means the author wanted one address or a different network.
    /// An IPv4-mapped IPv6 network (<c>::ffff:10.0.0.0/104</c>) is turned into its IPv4 form so it matches both
    /// spellings of an address.
    /// </remarks>
    public static bool TryParse(string? text, out IPNetwork network, [NotNullWhen(false)] out string? error)
    {
        network = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "a CIDR must not be empty; write one such as '10.0.0.0/8', '2001:db8::/32' or a single address";
            return false;
        }

        ReadOnlySpan<char> span = text;
        var slash = span.IndexOf('/');
        var addressText = slash < 0 ? span : span[..slash];
        if (!TryParseAddress(addressText, out var address))
        {
            error = $"'{text}' is not a valid CIDR: '{addressText}' is not an IPv4 address in dotted-decimal form "
                + "(four numbers 0-255 without leading zeros) or an IPv6 address without a zone index";
            return false;
        }

        var maxPrefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = maxPrefix;
        if (slash >= 0)
        {
            var prefixText = span[(slash + 1)..];
            if (prefixText.IsEmpty || prefixText.Length > 3 || !IsAllDigits(prefixText)
                || !int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out prefix)
                || prefix > maxPrefix)
            {
                error = $"'{text}' is not a valid CIDR: the prefix length after '/' must be a number from 0 to {maxPrefix}";
                return false;
            }
        }

        var masked = Mask(address, prefix);
        if (!masked.Equals(address))
        {
            error = $"'{text}' is not a valid CIDR: it has host bits set below the /{prefix} prefix; "
                + $"write the network as '{masked}/{prefix}', or '{address}/{maxPrefix}' for the single address";
            return false;
        }

        if (address.IsIPv4MappedToIPv6 && prefix >= 96)
        {
            address = address.MapToIPv4();
            prefix -= 96;
        }

        network = new IPNetwork(address, prefix);
        error = null;
        return true;
    }

    /// <summary>Whether any of <paramref name="networks"/> contains <paramref name="address"/>.</summary>
    /// <remarks>
    /// <see cref="IPNetwork.Contains(IPAddress)"/> matches an IPv4-mapped IPv6 address against IPv4 networks,
    /// which is what makes <c>::ffff:10.1.2.3</c> fall in <c>10.0.0.0/8</c> here.
    /// </remarks>
    public static bool AnyContains(IPNetwork[] networks, IPAddress address)
    {
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryParseAddress(ReadOnlySpan<char> text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (text.Contains(':'))
        {
            return !text.Contains('%') && IPAddress.TryParse(text, out address)
                && address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        // Dotted decimal only (RFC 4632 section 3.1 notation); IPAddress.TryParse alone would accept inet_aton forms.
        var octets = 0;
        foreach (var range in text.Split('.'))
        {
            var octet = text[range];
            if (octet.IsEmpty || octet.Length > 3 || !IsAllDigits(octet) || (octet.Length > 1 && octet[0] == '0')
                || int.Parse(octet, NumberStyles.None, CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }

            octets++;
        }

        return octets == 4 && IPAddress.TryParse(text, out address);
    }

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        bytes = bytes[..length];
        for (var i = 0; i < bytes.Length; i++)
        {
            var bitsInThisByte = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bitsInThisByte));
        }

        return new IPAddress(bytes);
    }

    private static bool IsAllDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
