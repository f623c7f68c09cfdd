using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;

namespace EgressLab.ProxyInstance.Tunnel;

internal enum ConnectParseStatus
{
    Incomplete,
    Complete,
    Error,
}

internal enum ConnectParseError
{
    None,

    /// <summary>No complete head within the byte limit: answer 431.</summary>
    HeadTooLarge,

    /// <summary>The request line exceeds <see cref="ConnectRequestParser.MaxRequestLineBytes"/>: answer 414.</summary>
    RequestLineTooLong,

    /// <summary>The request line is not <c>method SP request-target SP HTTP-version CRLF</c>: answer 400.</summary>
    MalformedRequestLine,

    /// <summary>A well-formed method other than CONNECT: answer 405 (or hand the connection elsewhere).</summary>
    NotConnect,

    /// <summary>The request-target is not a valid authority-form <c>host:port</c>: answer 400.</summary>
    InvalidAuthority,

    /// <summary>An HTTP-version other than 1.0 or 1.1: answer 505.</summary>
    UnsupportedVersion,

    /// <summary>A malformed, duplicated or forbidden header field, or a bare CR/LF: answer 400.</summary>
    InvalidHeader,
}

/// <summary>
/// Strict parser for the head of a CONNECT request (RFC 9112 §2-§5, RFC 9110 §9.3.6). It validates every byte
/// before it allocates anything, and allocates only the strings of <see cref="ConnectRequest"/> once the whole head is valid.
/// </summary>
internal static class ConnectRequestParser
{
    /// <summary>Largest request line accepted, CRLF included (RFC 9112 §3 recommends supporting at least 8000 octets).</summary>
    public const int MaxRequestLineBytes = 8 * 1024;

    // RFC 3986 §3.2.2 limits nothing, but DNS does (RFC 1035 §2.3.4): longer names can never resolve.
    private const int MaxHostNameLength = 253;
    private const int MaxLabelLength = 63;

    private static ReadOnlySpan<byte> ConnectPrefix => "CONNECT "u8;

    // RFC 9110 §5.6.2: tchar.
    private const string TokenCharacters = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static readonly SearchValues<byte> TokenChars = SearchValues.Create(System.Text.Encoding.ASCII.GetBytes(TokenCharacters));
    private static readonly SearchValues<char> TokenCharsUtf16 = SearchValues.Create(TokenCharacters);

    // RFC 3986 §3.2.2 reg-name restricted to the characters DNS names use: no pct-encoding, sub-delims or non-ASCII.
    private static readonly SearchValues<byte> LabelChars =
        SearchValues.Create("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"u8);

    // RFC 3986 §3.2.2 IPv6address; no IPvFuture and no zone identifier (RFC 6874 was never part of HTTP).
    private static readonly SearchValues<byte> IPv6Chars = SearchValues.Create(".0123456789:ABCDEFabcdef"u8);


    // RFC 9110 §5.5: field-value is VCHAR / obs-text / SP / HTAB; every other CTL (NUL, CR, LF, DEL...) is invalid.
    private static readonly SearchValues<byte> InvalidFieldValueBytes = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000A\u000B\u000C\u000D\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F"u8);

    /// <summary>
    /// Cheap routing check: true when <paramref name="buffer"/> starts with <c>CONNECT </c> (methods are case-sensitive,
    /// RFC 9110 §9.1), false when it certainly does not, null when too few bytes have arrived to tell.
    /// </summary>
    public static bool? StartsWithConnect(in ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> prefix = ConnectPrefix;
        int available = (int)Math.Min(buffer.Length, prefix.Length);
        if (available == 0)
        {
            return null;
        }

        Span<byte> copy = stackalloc byte[8];
        scoped ReadOnlySpan<byte> start;
        if (buffer.FirstSpan.Length >= available)
        {
            start = buffer.FirstSpan[..available];
        }
        else
        {
            buffer.Slice(0, available).CopyTo(copy);
            start = copy[..available];
        }

        if (!start.SequenceEqual(prefix[..available]))
        {
            return false;
        }

        return available == prefix.Length ? true : null;
    }

    /// <summary>Parses one request head from the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">Bytes received so far on the connection.</param>
    /// <param name="maxHeadBytes">Largest head accepted, request line, fields and the final empty line included.</param>
    /// <param name="request">The request on <see cref="ConnectParseStatus.Complete"/>, otherwise null.</param>
    /// <param name="error">Why parsing failed on <see cref="ConnectParseStatus.Error"/>, otherwise <see cref="ConnectParseError.None"/>.</param>
    /// <param name="consumed">
    /// On Complete, the position just after the empty line that ends the head: everything from there on is tunnel payload
    /// (a pipelined ClientHello, say). Otherwise the start of <paramref name="buffer"/>.
    /// </param>
    /// <param name="examined">How far the parser looked: the end of the buffer when Incomplete.</param>
    /// <remarks>
    /// Only the first <paramref name="maxHeadBytes"/> bytes are ever looked at, so the result for a given byte stream is the
    /// same however it is split into reads: lines are validated in order as they complete and the first error wins.
    /// </remarks>
    public static ConnectParseStatus TryParse(
        in ReadOnlySequence<byte> buffer,
        int maxHeadBytes,
        out ConnectRequest? request,
        out ConnectParseError error,
        out SequencePosition consumed,
        out SequencePosition examined)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHeadBytes);

        request = null;
        consumed = buffer.Start;

        bool windowIsFull = buffer.Length >= maxHeadBytes;
        ReadOnlySequence<byte> window = windowIsFull ? buffer.Slice(0, maxHeadBytes) : buffer;
        var reader = new SequenceReader<byte>(window);
        byte[]? scratch = null;
        try
        {
            // Request line (RFC 9112 §3).
            if (!reader.TryReadTo(out ReadOnlySequence<byte> requestLine, (byte)'\n'))
            {
                return NeedMoreOrFail(in buffer, in window, windowIsFull, window.Length >= MaxRequestLineBytes, out error, out examined);
            }

            examined = reader.Position;
            if (requestLine.Length + 1 > MaxRequestLineBytes)
            {
                error = ConnectParseError.RequestLineTooLong;
                return ConnectParseStatus.Error;
            }

            error = ParseRequestLine(Flatten(in requestLine, ref scratch), out int hostStart, out int hostLength, out int port, out bool ipv6, out int authorityLength, out Version? version);
            if (error != ConnectParseError.None)
            {
                return ConnectParseStatus.Error;
            }

            // "CONNECT " is 8 bytes, the authority follows it.
            const int AuthorityOffset = 8;
            var fields = new FieldState();

            // Header fields (RFC 9112 §5), up to the empty line.
            while (true)
            {
                long lineStart = reader.Consumed;
                if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
                {
                    return NeedMoreOrFail(in buffer, in window, windowIsFull, requestLineTooLong: false, out error, out examined);
                }

                examined = reader.Position;
                ReadOnlySpan<byte> span = Flatten(in line, ref scratch);

                // RFC 9112 §2.2: lines end in CRLF; a bare LF is not accepted as a terminator.
                if (span.IsEmpty || span[^1] != (byte)'\r')
                {
                    error = ConnectParseError.InvalidHeader;
                    return ConnectParseStatus.Error;
                }

                span = span[..^1];
                if (span.IsEmpty)
                {
                    break;
                }

                error = ParseField(span, lineStart, ref fields);
                if (error != ConnectParseError.None)
                {
                    return ConnectParseStatus.Error;
                }
            }

            // The head is valid: only now allocate.
            string rawAuthority = Encoding.ASCII.GetString(window.Slice(AuthorityOffset, authorityLength));
            string host = rawAuthority.Substring(hostStart, hostLength);
            string? proxyAuthorization = fields.ProxyAuthorizationOffset < 0
                ? null
                : Encoding.Latin1.GetString(window.Slice(fields.ProxyAuthorizationOffset, fields.ProxyAuthorizationLength));
            string? userAgent = fields.UserAgentOffset < 0
                ? null
                : Encoding.Latin1.GetString(window.Slice(fields.UserAgentOffset, fields.UserAgentLength));

            request = new ConnectRequest(host, port, ipv6, rawAuthority, version!, proxyAuthorization, userAgent);
            consumed = reader.Position;
            examined = consumed;
            error = ConnectParseError.None;
            return ConnectParseStatus.Complete;
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
    }

    private static ConnectParseStatus NeedMoreOrFail(
        in ReadOnlySequence<byte> buffer,
        in ReadOnlySequence<byte> window,
        bool windowIsFull,
        bool requestLineTooLong,
        out ConnectParseError error,
        out SequencePosition examined)
    {
        if (requestLineTooLong)
        {
            examined = window.End;
            error = ConnectParseError.RequestLineTooLong;
            return ConnectParseStatus.Error;
        }

        if (windowIsFull)
        {
            examined = window.End;
            error = ConnectParseError.HeadTooLarge;
            return ConnectParseStatus.Error;
        }

        examined = buffer.End;
        error = ConnectParseError.None;
        return ConnectParseStatus.Incomplete;
    }

    // A line that spans buffer segments is copied into a pooled scratch buffer; lines are bounded by maxHeadBytes.
    private static ReadOnlySpan<byte> Flatten(in ReadOnlySequence<byte> line, ref byte[]? scratch)
    {
        if (line.IsSingleSegment)
        {
            return line.FirstSpan;
        }

        int length = (int)line.Length;
        if (scratch is null || scratch.Length < length)
        {
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }

            scratch = ArrayPool<byte>.Shared.Rent(length);
        }

        line.CopyTo(scratch);
        return scratch.AsSpan(0, length);
    }

    // The span is the line without its LF. RFC 9112 §3: request-line = method SP request-target SP HTTP-version CRLF,
    // single spaces and nothing else (no lenient whitespace parsing, §3 last paragraph).
    private static ConnectParseError ParseRequestLine(
        ReadOnlySpan<byte> line,
        out int hostStart,
        out int hostLength,
        out int port,
        out bool ipv6,
        out int authorityLength,
        out Version? version)
    {
        hostStart = 0;
        hostLength = 0;
        port = 0;
        ipv6 = false;
        authorityLength = 0;
        version = null;

        if (line.IsEmpty || line[^1] != (byte)'\r')
        {
            return ConnectParseError.MalformedRequestLine;
        }

        line = line[..^1];
        int methodEnd = line.IndexOf((byte)' ');
        ReadOnlySpan<byte> method = methodEnd < 0 ? line : line[..methodEnd];
        if (!method.SequenceEqual("CONNECT"u8))
        {
            return IsToken(method) ? ConnectParseError.NotConnect : ConnectParseError.MalformedRequestLine;
        }

        if (methodEnd < 0)
        {
            return ConnectParseError.MalformedRequestLine;
        }

        ReadOnlySpan<byte> rest = line[(methodEnd + 1)..];
        int targetEnd = rest.IndexOf((byte)' ');
        if (targetEnd <= 0)
        {
            return ConnectParseError.MalformedRequestLine;
        }

        ReadOnlySpan<byte> authority = rest[..targetEnd];
        ReadOnlySpan<byte> httpVersion = rest[(targetEnd + 1)..];

        // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT.
        if (httpVersion.SequenceEqual("HTTP/1.1"u8))
        {
            version = HttpVersion.Version11;
        }
        else if (httpVersion.SequenceEqual("HTTP/1.0"u8))
        {
            version = HttpVersion.Version10;
        }
        else
        {
            return httpVersion.Length == 8 && httpVersion.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)httpVersion[5])
                && httpVersion[6] == (byte)'.' && char.IsAsciiDigit((char)httpVersion[7])
                ? ConnectParseError.UnsupportedVersion
                : ConnectParseError.MalformedRequestLine;
        }

        if (!TryParseAuthority(authority, out hostStart, out hostLength, out port, out ipv6))
        {
            return ConnectParseError.InvalidAuthority;
        }

        authorityLength = authority.Length;
        return ConnectParseError.None;
    }

    /// <summary>
    /// Checks an authority-form request-target that another parser took from a request line (a CONNECT that
    /// Kestrel parsed) with the same rules as a CONNECT head here; <paramref name="host"/> is without brackets.
    /// </summary>
    public static bool TryParseAuthority(string authority, [NotNullWhen(true)] out string? host, out int port, out bool bracketedIPv6)
    {
        host = null;
        port = 0;
        bracketedIPv6 = false;
        if (authority.Length is 0 or > MaxRequestLineBytes || !Ascii.IsValid(authority))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[authority.Length];
        Encoding.ASCII.GetBytes(authority, bytes);
        if (!TryParseAuthority(bytes, out var hostStart, out var hostLength, out port, out bracketedIPv6))
        {
            return false;
        }

        host = authority.Substring(hostStart, hostLength);
        return true;
    }

    // RFC 9112 §3.2.3: authority-form = uri-host ":" port, no userinfo; RFC 9110 §9.3.6: CONNECT uses only this form.
    private static bool TryParseAuthority(ReadOnlySpan<byte> authority, out int hostStart, out int hostLength, out int port, out bool ipv6)
    {
        hostStart = 0;
        hostLength = 0;
        port = 0;
        ipv6 = false;

        ReadOnlySpan<byte> portSpan;
        if (authority[0] == (byte)'[')
        {
            int close = authority.IndexOf((byte)']');
            if (close < 0 || close + 1 >= authority.Length || authority[close + 1] != (byte)':')
            {
                return false;
            }

            ReadOnlySpan<byte> address = authority[1..close];
            if (!IsIPv6Literal(address))
            {
                return false;
            }

            hostStart = 1;
            hostLength = address.Length;
            ipv6 = true;
            portSpan = authority[(close + 2)..];
        }
        else
        {
            // The first colon ends the host: an unbracketed IPv6 address leaves colons in the port and fails there.
            int colon = authority.IndexOf((byte)':');
            if (colon <= 0 || !IsRegNameOrIPv4(authority[..colon]))
            {
                return false;
            }

            hostLength = colon;
            portSpan = authority[(colon + 1)..];
        }

        return TryParsePort(portSpan, out port);
    }

    // RFC 3986 §3.2.3: port = *DIGIT; we need 1-5 digits, value 1-65535, no sign.
    private static bool TryParsePort(ReadOnlySpan<byte> span, out int port)
    {
        port = 0;
        if (span.IsEmpty || span.Length > 5)
        {
            return false;
        }

        foreach (byte b in span)
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }

            port = (port * 10) + (b - '0');
        }

        return port is >= 1 and <= 65535;
    }

    private static bool IsIPv6Literal(ReadOnlySpan<byte> address) =>
        !address.IsEmpty
        && !address.ContainsAnyExcept(IPv6Chars)
        && address.Contains((byte)':')
        && IPAddress.IsValidUtf8(address);

    // A dot-separated name of non-empty labels of LabelChars, with at most one trailing dot: the syntax only. Whether a
    // numeric host ("127.1", "0x7f.1", "2130706433") is an address, and which, is decided by EgressTarget, as on the
    // plain-HTTP path, so that both paths judge every notation alike.
    private static bool IsRegNameOrIPv4(ReadOnlySpan<byte> host)
    {
        bool trailingDot = host[^1] == (byte)'.';
        ReadOnlySpan<byte> name = trailingDot ? host[..^1] : host;
        if (name.IsEmpty || name.Length > MaxHostNameLength)
        {
            return false;
        }

        ReadOnlySpan<byte> remaining = name;
        while (true)
        {
            int dot = remaining.IndexOf((byte)'.');
            ReadOnlySpan<byte> label = dot < 0 ? remaining : remaining[..dot];
            if (label.IsEmpty || label.Length > MaxLabelLength || label.ContainsAnyExcept(LabelChars))
            {
                return false;
            }

            if (dot < 0)
            {
                return true;
            }

            remaining = remaining[(dot + 1)..];
        }
    }

    internal static bool IsToken(ReadOnlySpan<byte> span) => !span.IsEmpty && !span.ContainsAnyExcept(TokenChars);

    internal static bool IsToken(ReadOnlySpan<char> span) => !span.IsEmpty && !span.ContainsAnyExcept(TokenCharsUtf16);

    // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS. The span excludes the CRLF.
    private static ConnectParseError ParseField(ReadOnlySpan<byte> line, long lineOffset, ref FieldState fields)
    {
        // The field name must be a token right up to the colon, which rejects whitespace before the colon (RFC 9112 §5.1),
        // obs-fold continuation lines (§5.2) and whitespace between the start-line and the first field (§2.2).
        int colon = line.IndexOf((byte)':');
        if (colon <= 0 || !IsToken(line[..colon]))
        {
            return ConnectParseError.InvalidHeader;
        }

        ReadOnlySpan<byte> name = line[..colon];
        int valueStart = colon + 1;
        ReadOnlySpan<byte> value = line[valueStart..];
        if (value.ContainsAny(InvalidFieldValueBytes))
        {
            return ConnectParseError.InvalidHeader;
        }

        int leading = value.Length - value.TrimStart(" \t"u8).Length;
        value = value.Trim(" \t"u8);
        long valueOffset = lineOffset + valueStart + leading;

        if (Ascii.EqualsIgnoreCase(name, "Proxy-Authorization"u8))
        {
            // RFC 9110 §5.3: a singleton field must not repeat; two credentials would make authentication ambiguous.
            if (fields.ProxyAuthorizationOffset >= 0)
            {
                return ConnectParseError.InvalidHeader;
            }

            fields.ProxyAuthorizationOffset = valueOffset;
            fields.ProxyAuthorizationLength = value.Length;
        }
        else if (Ascii.EqualsIgnoreCase(name, "User-Agent"u8))
        {
            if (fields.UserAgentOffset >= 0)
            {
                return ConnectParseError.InvalidHeader;
            }

            fields.UserAgentOffset = valueOffset;
            fields.UserAgentLength = value.Length;
        }
        else if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
        {
            // RFC 9110 §9.3.6: a CONNECT request has no content; anything else is a smuggling attempt.
            if (!value.SequenceEqual("0"u8))
            {
                return ConnectParseError.InvalidHeader;
            }
        }
        else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
        {
            return ConnectParseError.InvalidHeader;
        }
        else if (Ascii.EqualsIgnoreCase(name, "Host"u8))
        {
            // RFC 9112 §3.2: a request with more than one Host field must be rejected with 400.
            if (fields.SawHost)
            {
                return ConnectParseError.InvalidHeader;
            }

            fields.SawHost = true;
        }

        return ConnectParseError.None;
    }

    // Where the values the request keeps lie in the window; strings are made only once the whole head is valid.
    private struct FieldState
    {
        public long ProxyAuthorizationOffset;
        public int ProxyAuthorizationLength;
        public long UserAgentOffset;
        public int UserAgentLength;
        public bool SawHost;

        public FieldState()
        {
            ProxyAuthorizationOffset = -1;
            UserAgentOffset = -1;
        }
    }
}
