using System.Buffers;
using System.Text;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Tunnel;

internal enum TunnelHttpHeadStatus
{
    /// <summary>More bytes are needed to decide.</summary>
    Incomplete,

    /// <summary>The bytes are not an HTTP/1.x request (TLS, SSH, HTTP/2's preface, another protocol).</summary>
    NotHttp,

    /// <summary>A complete HTTP/1.x request head; the host it names (or its absence) is known.</summary>
    Parsed,

    /// <summary>An HTTP/1.x request line followed by a head that is invalid or larger than the limit.</summary>
    Malformed,
}

/// <summary>The destination a plain HTTP/1.x request inside a tunnel is for.</summary>
/// <param name="Destination">
/// What the request names (absolute URI, else Host field) in canonical form, the port defaulting to the scheme's
/// (80 for http and ws); null when it names none.
/// </param>
/// <param name="Named">The authority as the client wrote it, for the log and the refusal.</param>
internal readonly record struct TunnelHttpTarget(EgressTarget? Destination, string? Named);

/// <summary>How the request whose head was parsed is framed (RFC 9112 §6.3), so that the next request's head can be found.</summary>
/// <param name="HeadLength">Bytes of the head, the empty line that ends it included.</param>
/// <param name="ContentLength">The body's length when it is framed by Content-Length; 0 for no body.</param>
/// <param name="Chunked">The body is framed by the chunked transfer coding.</param>
/// <param name="Opaque">What follows may not be HTTP: an Upgrade (WebSocket) or a CONNECT asked for.</param>
internal readonly record struct TunnelHttpFraming(int HeadLength, long ContentLength, bool Chunked, bool Opaque);

/// <summary>
/// Reads the head of the first plain HTTP/1.x request a client sends into a tunnel (an <c>http://</c> or <c>ws://</c>
/// URL tunnelled through CONNECT, as Node's undici does by default, or <c>curl --proxytunnel</c>), so that the host it
/// is for can be held to the CONNECT host as a TLS ClientHello's SNI is. It looks without consuming.
/// </summary>
/// <remarks>
/// RFC 9112 §3.2: the target is origin-form (the Host field names the host), absolute-form (the URI's authority does,
/// and a recipient ignores Host, so both are held to the CONNECT host), authority-form (CONNECT) or asterisk-form.
/// </remarks>
internal static class TunnelHttpHeadParser
{
    // Longest method looked for before deciding the bytes are not a request line.
    private const int MaxMethodLength = 32;

    /// <summary>Looks at the first bytes a client sent into a tunnel; consumes nothing.</summary>
    /// <param name="buffer">Bytes received from the client so far.</param>
    /// <param name="maxHeadBytes">Largest head accepted, the final empty line included; a larger one is Malformed.</param>
    /// <param name="target">On Parsed, what the request names; otherwise default.</param>
    /// <param name="problem">On Malformed, what is wrong, for the client; otherwise null.</param>
    public static TunnelHttpHeadStatus TryParse(in ReadOnlySequence<byte> buffer, int maxHeadBytes, out TunnelHttpTarget target, out string? problem) =>
        TryParse(buffer, maxHeadBytes, out target, out _, out problem);

    /// <summary>As the other overload, and says how the request's body is framed.</summary>
    public static TunnelHttpHeadStatus TryParse(
        in ReadOnlySequence<byte> buffer, int maxHeadBytes, out TunnelHttpTarget target, out TunnelHttpFraming framing, out string? problem)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHeadBytes);
        target = default;
        framing = default;
        problem = null;

        var reader = new SequenceReader<byte>(buffer);
        var methodLength = 0;
        while (true)
        {
            if (!reader.TryRead(out var b))
            {
                return TunnelHttpHeadStatus.Incomplete;
            }

            if (b == (byte)' ' && methodLength > 0)
            {
                break;
            }

            if (!ConnectRequestParser.IsToken(new ReadOnlySpan<byte>(in b)) || ++methodLength > MaxMethodLength)
            {
                return TunnelHttpHeadStatus.NotHttp;
            }
        }

        var window = buffer.Length > maxHeadBytes ? buffer.Slice(0, maxHeadBytes) : buffer;
        var end = FindEndOfHead(window);
        if (end < 0)
        {
            // Without the whole request line it is not known to be HTTP/1.x yet.
            var lineEnd = window.PositionOf((byte)'\n');
            if (lineEnd is { } position && !IsHttp1RequestLine(window.Slice(0, position)))
            {
                return TunnelHttpHeadStatus.NotHttp;
            }

            if (buffer.Length < maxHeadBytes)
            {
                return TunnelHttpHeadStatus.Incomplete;
            }

            if (lineEnd is null)
            {
                return TunnelHttpHeadStatus.NotHttp;
            }

            problem = "the request head inside the tunnel is too large";
            return TunnelHttpHeadStatus.Malformed;
        }

        // Read once per plain-text tunnel, not per byte: a string is simplest here.
        var head = Encoding.Latin1.GetString(window.Slice(0, end - 4));
        var lines = head.Split("\r\n");
        if (!IsHttp1RequestLine(lines[0]))
        {
            return TunnelHttpHeadStatus.NotHttp;
        }

        var requestLine = lines[0].Split(' ');
        var method = requestLine[0];
        var requestTarget = requestLine[1];
        string? hostField = null;
        long? contentLength = null;
        var chunked = false;
        var upgrade = false;
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i];
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !ConnectRequestParser.IsToken(line.AsSpan(0, colon)))
            {
                problem = "malformed header field in the request inside the tunnel";
                return TunnelHttpHeadStatus.Malformed;
            }

            if (line.AsSpan(0, colon).Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                // RFC 9112 §3.2: a request with more than one Host field is invalid.
                if (hostField is not null)
                {
                    problem = "the request inside the tunnel has more than one Host field";
                    return TunnelHttpHeadStatus.Malformed;
                }

                hostField = line[(colon + 1)..].Trim(" \t".ToCharArray());
            }
            else if (line.AsSpan(0, colon).Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                // RFC 9112 §6.3: a Content-Length that is not one number, or differs from another, makes the framing unknown.
                if (!long.TryParse(line.AsSpan(colon + 1).Trim(" \t"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length)
                    || (contentLength is { } earlier && earlier != length))
                {
                    problem = "the request inside the tunnel has an invalid Content-Length";
                    return TunnelHttpHeadStatus.Malformed;
                }

                contentLength = length;
            }
            else if (line.AsSpan(0, colon).Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                // Only a lone "chunked" can be followed (as on the plain-HTTP path); anything else is refused.
                if (chunked || !line.AsSpan(colon + 1).Trim(" \t").Equals("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    problem = "the only Transfer-Encoding accepted inside the tunnel is a single \"chunked\"";
                    return TunnelHttpHeadStatus.Malformed;
                }

                chunked = true;
            }
            else if (line.AsSpan(0, colon).Equals("Upgrade", StringComparison.OrdinalIgnoreCase))
            {
                upgrade = true;
            }
        }

        if (chunked && contentLength is not null)
        {
            problem = "the request inside the tunnel has both Transfer-Encoding and Content-Length";
            return TunnelHttpHeadStatus.Malformed;
        }

        framing = new TunnelHttpFraming(end, contentLength ?? 0, chunked, upgrade || method == "CONNECT");

        TunnelHttpTarget? fromUri = null;
        if (method == "CONNECT")
        {
            if (!TryAuthority(requestTarget, 0, out var connectTarget))
            {
                problem = "the CONNECT inside the tunnel does not name host:port";
                return TunnelHttpHeadStatus.Malformed;
            }

            fromUri = connectTarget;
        }
        else if (requestTarget.IndexOf("://", StringComparison.Ordinal) is var schemeEnd and > 0)
        {
            var scheme = requestTarget[..schemeEnd];
            var defaultPort = scheme.ToUpperInvariant() switch
            {
                "HTTP" or "WS" => 80,
                "HTTPS" or "WSS" => 443,
                _ => 0,
            };
            var rest = requestTarget[(schemeEnd + 3)..];
            var authorityEnd = rest.IndexOfAny(['/', '?', '#']);
            var authority = authorityEnd < 0 ? rest : rest[..authorityEnd];
            if (defaultPort == 0 || authority.Contains('@', StringComparison.Ordinal) || !TryAuthority(authority, defaultPort, out var uriTarget))
            {
                problem = "the URL of the request inside the tunnel must be http:// or ws:// with host[:port], without userinfo";
                return TunnelHttpHeadStatus.Malformed;
            }

            fromUri = uriTarget;
        }

        TunnelHttpTarget? fromHost = null;
        if (!string.IsNullOrEmpty(hostField))
        {
            if (!TryAuthority(hostField, 80, out var hostTarget))
            {
                problem = "the Host field of the request inside the tunnel is not host[:port]";
                return TunnelHttpHeadStatus.Malformed;
            }

            fromHost = hostTarget;
        }

        // Both must name the same destination: the origin may route by either.
        if (fromUri is { Destination: { } u } && fromHost is { Destination: { } h } && u != h)
        {
            problem = "the URL and the Host field of the request inside the tunnel name different hosts";
            return TunnelHttpHeadStatus.Malformed;
        }

        target = fromUri ?? fromHost ?? new TunnelHttpTarget(null, null);
        return TunnelHttpHeadStatus.Parsed;
    }

    /// <summary>The length of the head, the CRLFCRLF that ends it included, or -1 when it is not all there.</summary>
    private static int FindEndOfHead(in ReadOnlySequence<byte> window)
    {
        var reader = new SequenceReader<byte>(window);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, "\r\n\r\n"u8) ? (int)reader.Consumed : -1;
    }

    private static bool IsHttp1RequestLine(in ReadOnlySequence<byte> line) =>
        IsHttp1RequestLine(Encoding.Latin1.GetString(line).TrimEnd('\r'));

    // RFC 9112 §3: method SP request-target SP HTTP-version; only 1.0 and 1.1 are relayed as plain HTTP.
    private static bool IsHttp1RequestLine(string line)
    {
        var parts = line.Split(' ');
        return parts.Length == 3 && parts[1].Length > 0 && !parts[1].AsSpan().ContainsAnyInRange('\0', ' ')
            && parts[2] is "HTTP/1.1" or "HTTP/1.0";
    }

    /// <summary>Parses <c>host[:port]</c>, IPv6 in brackets; <paramref name="defaultPort"/> 0 means the port is required.</summary>
    private static bool TryAuthority(string authority, int defaultPort, out TunnelHttpTarget target)
    {
        target = default;
        var hasPort = authority.StartsWith('[')
            ? authority.IndexOf("]:", StringComparison.Ordinal) > 0
            : authority.Contains(':', StringComparison.Ordinal);
        if (!hasPort)
        {
            if (defaultPort == 0)
            {
                return false;
            }

            authority = $"{authority}:{defaultPort}";
        }

        if (!ConnectRequestParser.TryParseAuthority(authority, out var host, out var port, out _)
            || !EgressTarget.TryCreate(host, port, out var destination))
        {
            return false;
        }

        target = new TunnelHttpTarget(destination, authority);
        return true;
    }
}
