using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EgressLab.ProxyInstance.Targets;

/// <summary>What a request's host turned out to be.</summary>
internal enum HostKind
{
    /// <summary>A syntactically valid DNS name (possibly Unicode, not yet punycoded).</summary>
    Name,

    /// <summary>An IPv4 or IPv6 literal, in whatever notation it was written.</summary>
    IpLiteral,

    /// <summary>Neither: a numeric host that does not parse, or characters no host name may contain.</summary>
    Invalid,
}

/// <summary>
/// Recognises IP literals in every notation a URL parser or <c>inet_aton</c> accepts, so that no numeric host
/// ever reaches the resolver as a "name" and no alternative spelling of 127.0.0.1 slips past the guard.
/// </summary>
/// <remarks>
/// IPv4 follows the WHATWG URL Standard's "ends in a number" checker and IPv4 parser (§3.5), which accepts the
/// same decimal, octal, hexadecimal and shortened forms as <c>inet_aton</c>. A host whose last label is a number
/// is an IPv4 attempt; if it does not parse it is <see cref="HostKind.Invalid"/>, never a name.
/// </remarks>
internal static class HostLiteral
{
    private const int MaxNameLength = 253;  // RFC 1035 §2.3.4, 255 octets on the wire less length bytes and root
    private const int MaxLabelLength = 63;  // RFC 1035 §2.3.4

    private static readonly SearchValues<char> IPv6Chars = SearchValues.Create("0123456789abcdefABCDEF:.");

    // RFC 6874 §2: ZoneID = 1*( unreserved / pct-encoded ); percent-escapes inside a zone are not accepted.
    private static readonly SearchValues<char> ZoneChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~");

    public static bool TryParse(ReadOnlySpan<char> host, [NotNullWhen(true)] out IPAddress? address) =>
        Classify(host, out address) == HostKind.IpLiteral && address is not null;

    /// <summary>Decides whether <paramref name="host"/> is a name, an IP literal (returned in <paramref name="address"/>) or neither.</summary>
    public static HostKind Classify(ReadOnlySpan<char> host, out IPAddress? address)
    {
        address = null;
        if (host.IsEmpty)
        {
            return HostKind.Invalid;
        }

        if (host[0] == '[')
        {
            // RFC 3986 §3.2.2: IP-literal = "[" ( IPv6address / IPvFuture ) "]"; IPvFuture has no use here.
            return host.Length > 2 && host[^1] == ']' && TryParseIPv6(host[1..^1], bracketed: true, out address)
                ? HostKind.IpLiteral
                : HostKind.Invalid;
        }

        // A colon is never part of a name, so an unbracketed host with one can only be an IPv6 attempt.
        if (host.Contains(':'))
        {
            return TryParseIPv6(host, bracketed: false, out address) ? HostKind.IpLiteral : HostKind.Invalid;
        }

        if (EndsInNumber(host))
        {
            return TryParseIPv4(host, out address) ? HostKind.IpLiteral : HostKind.Invalid;
        }

        return IsValidName(host) ? HostKind.Name : HostKind.Invalid;
    }

    /// <summary>WHATWG URL "ends in a number checker".</summary>
    private static bool EndsInNumber(ReadOnlySpan<char> host)
    {
        if (host[^1] == '.')
        {
            if (host.Length == 1)
            {
                return false;
            }

            host = host[..^1];
        }

        ReadOnlySpan<char> last = host[(host.LastIndexOf('.') + 1)..];
        if (last.IsEmpty)
        {
            return false;
        }

        if (!last.ContainsAnyExceptInRange('0', '9'))
        {
            return true;
        }

        // Only "0x"-prefixed hex can get here, since every other accepted form is all ASCII digits. Being too
        // large is not a failure of the number parser, only of the IPv4 parser.
        return ParseIPv4Number(last, out _) != NumberResult.Malformed;
    }

    /// <summary>WHATWG URL "IPv4 parser".</summary>
    private static bool TryParseIPv4(ReadOnlySpan<char> host, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;

        // A single trailing dot is the FQDN form and is dropped; "1.2.3.4.." is not a literal.
        if (host[^1] == '.')
        {
            host = host[..^1];
        }

        Span<uint> numbers = stackalloc uint[4];
        int count = 0;
        while (true)
        {
            if (count == numbers.Length)
            {
                return false; // more than four parts
            }

            int dot = host.IndexOf('.');
            ReadOnlySpan<char> part = dot < 0 ? host : host[..dot];

            // Any part too large fails: non-last parts must be ≤ 255 and the last must fit the remaining bytes.
            if (ParseIPv4Number(part, out numbers[count]) != NumberResult.Ok)
            {
                return false;
            }

            count++;
            if (dot < 0)
            {
                break;
            }

            host = host[(dot + 1)..];
        }

        uint value = numbers[count - 1];
        if (count > 1 && value >= 1u << (8 * (5 - count)))
        {
            return false; // the last part fills 8 * (5 - count) bits, e.g. 24 for "a.b"
        }

        for (int i = 0; i < count - 1; i++)
        {
            if (numbers[i] > 255)
            {
                return false;
            }

            value |= numbers[i] << (8 * (3 - i));
        }

        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        address = new IPAddress(bytes);
        return true;
    }

    /// <summary>WHATWG URL "IPv4 number parser": "0x" prefix for hex, a leading "0" for octal, else decimal.</summary>
    private static NumberResult ParseIPv4Number(ReadOnlySpan<char> input, out uint value)
    {
        value = 0;
        if (input.IsEmpty)
        {
            return NumberResult.Malformed;
        }

        uint radix = 10;
        if (input.Length >= 2 && input[0] == '0' && (input[1] | 0x20) == 'x')
        {
            input = input[2..];
            radix = 16;
        }
        else if (input.Length >= 2 && input[0] == '0')
        {
            input = input[1..];
            radix = 8;
        }

        // "0x" and "0" alone are zero.
        ulong accumulated = 0;
        bool tooLarge = false;
        foreach (char c in input)
        {
            uint digit = (uint)HexConverter(c);
            if (digit >= radix)
            {
                return NumberResult.Malformed;
            }

            // Keep scanning after overflow: a later non-digit still makes the whole part malformed.
            if (!tooLarge)
            {
                accumulated = (accumulated * radix) + digit;
                tooLarge = accumulated > uint.MaxValue;
            }
        }

        if (tooLarge)
        {
            return NumberResult.TooLarge;
        }

        value = (uint)accumulated;
        return NumberResult.Ok;
    }

    private static int HexConverter(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => int.MaxValue,
    };

    private static bool TryParseIPv6(ReadOnlySpan<char> text, bool bracketed, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        int percent = text.IndexOf('%');
        ReadOnlySpan<char> literal = percent < 0 ? text : text[..percent];

        // Checked here rather than left to IPAddress.TryParse, which also takes brackets, ports and zones.
        if (literal.IsEmpty || literal.ContainsAnyExcept(IPv6Chars) || !literal.Contains(':'))
        {
            return false;
        }

        uint scopeId = 0;
        if (percent >= 0)
        {
            ReadOnlySpan<char> zone = text[(percent + 1)..];

            // Inside a URI the "%" introducing a zone is itself escaped as "%25" (RFC 6874 §2); a bare address
            // uses a plain "%" (RFC 4007 §11.2).
            if (bracketed)
            {
                if (!zone.StartsWith("25", StringComparison.Ordinal))
                {
                    return false;
                }

                zone = zone[2..];
            }

            if (zone.IsEmpty || zone.ContainsAnyExcept(ZoneChars))
            {
                return false;
            }

            // A numeric zone is an interface index. A named zone is not looked up: that takes a socket ioctl,
            // which IPAddress.TryParse would do behind our back, so it is parsed here with scope 0 instead.
            if (!zone.ContainsAnyExceptInRange('0', '9')
                && !uint.TryParse(zone, NumberStyles.None, CultureInfo.InvariantCulture, out scopeId))
            {
                return false;
            }
        }

        if (!IPAddress.TryParse(literal, out IPAddress? parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        parsed.ScopeId = scopeId;
        address = parsed;
        return true;
    }

    /// <summary>
    /// RFC 1123 §2.1 LDH labels, plus "_" (found in real host names and SRV-style owners), plus non-ASCII letters,
    /// marks and digits for IDN labels the policy layer will punycode.
    /// </summary>
    /// <remarks>
    /// A label may not begin or end with "-" (RFC 5890 §2.3.1), so "-" alone is <see cref="HostKind.Invalid"/>.
    /// Lengths count UTF-16 code units before punycoding; the policy layer re-checks the ASCII form.
    /// </remarks>
    private static bool IsValidName(ReadOnlySpan<char> host)
    {
        if (host[^1] == '.')
        {
            host = host[..^1]; // RFC 1034 §3.1: the root label of an absolute name
        }

        if (host.IsEmpty || host.Length > MaxNameLength)
        {
            return false;
        }

        int labelLength = 0;
        bool lastWasHyphen = false;
        for (int i = 0; i < host.Length; i++)
        {
            char c = host[i];
            if (c == '.')
            {
                if (labelLength == 0 || lastWasHyphen)
                {
                    return false;
                }

                labelLength = 0;
                continue;
            }

            if (char.IsAscii(c))
            {
                if (c == '-')
                {
                    if (labelLength == 0)
                    {
                        return false;
                    }
                }
                else if (!char.IsAsciiLetterOrDigit(c) && c != '_')
                {
                    return false;
                }

                lastWasHyphen = c == '-';
                labelLength++;
            }
            else
            {
                if (Rune.DecodeFromUtf16(host[i..], out Rune rune, out int consumed) != OperationStatus.Done
                    || !IsAllowedNonAscii(rune))
                {
                    return false;
                }

                lastWasHyphen = false;
                labelLength += consumed;
                i += consumed - 1;
            }

            if (labelLength > MaxLabelLength)
            {
                return false;
            }
        }

        return labelLength > 0 && !lastWasHyphen;
    }

    /// <summary>
    /// UTS #46 mapping, which a browser or a later IDNA step applies, folds compatibility characters into ASCII:
    /// "１２７．０．０．１" and "0ˣ7f.1" become IPv4 literals. Those mapping tables are not available under
    /// InvariantGlobalization, so the blocks whose characters fold into ASCII letters, digits or dots are refused,
    /// along with everything that is not a letter, mark or digit (except IDNA2008's CONTEXTJ/CONTEXTO joiners).
    /// </summary>
    private static bool IsAllowedNonAscii(Rune rune)
    {
        int value = rune.Value;
        if (value is (>= 0xFF00 and <= 0xFFEF)          // halfwidth and fullwidth forms, incl. U+FF0E and U+FF61 dots
            or (>= 0x1D400 and <= 0x1D7FF)             // mathematical alphanumeric symbols
            or (>= 0x1FBF0 and <= 0x1FBF9)             // segmented digits
            or 0x00AA or 0x00BA                        // ª º
            or (>= 0x02B0 and <= 0x02B8)               // modifier small letters ʰ..ʸ
            or (>= 0x02E0 and <= 0x02E4)               // modifier small letters ˠ..ˤ, including ˣ
            or (>= 0x1D2C and <= 0x1DBF)               // phonetic extensions' modifier letters, incl. ᵃ..ᶠ
            or 0x2071 or 0x207F or (>= 0x2090 and <= 0x209C)) // superscript and subscript letters
        {
            return false;
        }

        if (value is 0x200C or 0x200D                  // ZWNJ, ZWJ: RFC 5892 Appendix A.1, A.2
            or 0x00B7 or 0x0375 or 0x05F3 or 0x05F4 or 0x30FB) // RFC 5892 Appendix A.3 to A.9
        {
            return true;
        }

        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
                or UnicodeCategory.DecimalDigitNumber => true,
            _ => false,
        };
    }

    private enum NumberResult
    {
        Ok,
        TooLarge,
        Malformed,
    }
}
