using System.Buffers.Text;

namespace EgressLab.LoadTests.Scenarios;

/// <summary>
/// The pieces of an HTTP/1.x response head (RFC 9112 §4, §5) that every reader of one needs: the status line, and the
/// field lines one by one. The head given is the bytes after the status line, each field line ending with CRLF.
/// </summary>
internal static class Http1Head
{
    public static ReadOnlySpan<byte> LineEnd => "\r\n"u8;

    /// <summary>Reads "HTTP/1.x NNN [reason]"; false when the line is not one.</summary>
    public static bool TryParseStatus(ReadOnlySpan<byte> statusLine, out int status)
    {
        status = 0;
        return statusLine.Length >= 12 && statusLine.StartsWith("HTTP/1."u8) && statusLine[8] == (byte)' '
            && Utf8Parser.TryParse(statusLine.Slice(9, 3), out status, out var consumed) && consumed == 3;
    }

    /// <summary>
    /// Takes the next field line off <paramref name="fields"/>: its name and its value without surrounding spaces and
    /// tabs. A line without a name before a colon is skipped. False when no field is left.
    /// </summary>
    public static bool TryTakeField(ref ReadOnlySpan<byte> fields, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        while (fields.Length > 0)
        {
            var end = fields.IndexOf(LineEnd);
            var field = end < 0 ? fields : fields[..end];
            fields = end < 0 ? [] : fields[(end + LineEnd.Length)..];
            var colon = field.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }

            name = field[..colon];
            // OWS (RFC 9110 §5.6.3) is any run of spaces and tabs, mixed.
            value = field[(colon + 1)..].Trim(" \t"u8);
            return true;
        }

        name = default;
        value = default;
        return false;
    }
}
