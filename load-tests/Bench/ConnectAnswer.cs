using System.Buffers.Text;
using System.Net.Http;
using System.Text;
using EgressLab.LoadTests.Scenarios;

namespace EgressLab.LoadTests.Bench;

/// <summary>
/// The proxy's answer to CONNECT (RFC 9110 §9.3.6): its status and, for a refusal, why: the proxy's error code
/// (X-Proxy-Error) and the first line of its body, which names the rule or limit. The shared
/// <c>Http1ResponseReader</c> counts bodies without keeping them, so a refusal's reason is read here.
/// </summary>
/// <param name="HeadLength">Bytes up to and including the empty line that ends the head.</param>
/// <param name="Reason">For a refusal, the error code and the body's first line; null for a 2xx.</param>
internal readonly record struct ConnectAnswer(int Status, int HeadLength, string? Reason)
{
    /// <summary>A refusal's reason is cut to this many characters: enough for the proxy's one-line explanations.</summary>
    private const int MaxReasonLength = 300;

    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;
    private static ReadOnlySpan<byte> LineEnd => Http1Head.LineEnd;

    /// <summary>
    /// Parses the answer from the bytes received so far. False while more is needed: the head is incomplete, or a
    /// refusal's Content-Length body is, unless <paramref name="final"/> says no more will come (the proxy closed,
    /// or the buffer is full), when a refusal is read from what there is.
    /// </summary>
    /// <exception cref="HttpIOException">The bytes are not an HTTP/1.x response.</exception>
    public static bool TryParse(ReadOnlySpan<byte> received, bool final, out ConnectAnswer answer)
    {
        answer = default;
        var headEnd = received.IndexOf(HeadEnd);
        if (headEnd < 0)
        {
            return false;
        }

        var head = received[..(headEnd + LineEnd.Length)];
        var headLength = headEnd + HeadEnd.Length;
        var status = ParseStatus(head[..head.IndexOf(LineEnd)]);
        if (status is >= 200 and <= 299)
        {
            answer = new ConnectAnswer(status, headLength, null);
            return true;
        }

        string? code = null;
        long contentLength = -1;
        var rest = head[(head.IndexOf(LineEnd) + LineEnd.Length)..];
        while (Http1Head.TryTakeField(ref rest, out var name, out var value))
        {
            if (Ascii.EqualsIgnoreCase(name, "X-Proxy-Error"u8))
            {
                code = Encoding.ASCII.GetString(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8)
                && (!Utf8Parser.TryParse(value, out contentLength, out var used) || used != value.Length))
            {
                contentLength = -1;
            }
        }

        var body = received[headLength..];
        if (!final && (contentLength < 0 || body.Length < contentLength))
        {
            // Without a length the body runs to the close (the proxy closes after a refusal); wait for it.
            return false;
        }

        if (contentLength >= 0 && body.Length > contentLength)
        {
            body = body[..(int)contentLength];
        }

        var firstLine = body.IndexOfAny((byte)'\r', (byte)'\n');
        var text = Encoding.UTF8.GetString(firstLine < 0 ? body : body[..firstLine]).Trim();
        if (text.Length > MaxReasonLength)
        {
            text = text[..MaxReasonLength] + "…";
        }

        var reason = (code, text.Length) switch
        {
            (null, 0) => null,
            (null, _) => text,
            (_, 0) => code,
            _ => $"{code}: {text}",
        };
        answer = new ConnectAnswer(status, headLength, reason ?? "no reason given");
        return true;
    }

    private static int ParseStatus(ReadOnlySpan<byte> statusLine)
    {
        // RFC 9112 §4: HTTP-version SP status-code SP [ reason-phrase ].
        if (Http1Head.TryParseStatus(statusLine, out var status) && status >= 100)
        {
            return status;
        }

        throw NotHttp();
    }

    private static HttpIOException NotHttp() =>
        new(HttpRequestError.InvalidResponse, "the proxy's answer to CONNECT does not start with an HTTP/1.x status line");
}
