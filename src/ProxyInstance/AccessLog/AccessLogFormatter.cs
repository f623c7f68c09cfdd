using System.Globalization;
using System.Text;
using System.Text.Json;
using EgressLab.ProxyInstance.Admission;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Errors;

namespace EgressLab.ProxyInstance.AccessLog;

/// <summary>Renders access log lines in Squid's native format or as JSON.</summary>
internal static class AccessLogFormatter
{
    /// <summary>Prefix of the Squid rule field on a line the policy would have denied but only reported.</summary>
    public const string WouldDenyTag = "WOULD_DENY:";

    /// <summary>
    /// Squid's native format, <c>%ts.%03tu %6tr %>a %Ss/%03>Hs %&lt;st %rm %ru %[un %Sh/%&lt;a %mt</c>, followed by
    /// the rule that decided and the error code: tools that read the first ten fields keep working. A request let
    /// through although the policy would deny it (report mode) has <c>WOULD_DENY:</c> and the rule, or
    /// <c>default</c>, as its rule field, so the line keeps its twelve fields.
    /// </summary>
    public static void WriteSquid(StringBuilder line, AccessLogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(entry);
        var unixMs = entry.Time.ToUnixTimeMilliseconds();
        line.Append(CultureInfo.InvariantCulture, $"{unixMs / 1000}.{unixMs % 1000:D3} ");
        // Interpolated appends format numbers and addresses straight into the builder: one line, no strings.
        line.Append(CultureInfo.InvariantCulture, $"{(long)entry.Duration.TotalMilliseconds,6} ");
        if (entry.Client is { } client)
        {
            line.Append(CultureInfo.InvariantCulture, $"{client} ");
        }
        else
        {
            line.Append("- ");
        }

        line.Append(CultureInfo.InvariantCulture, $"{ProxyErrorResponses.SquidTag(entry.Error, entry.Tunnel)}{Aborted(entry)}/{entry.Status:D3} {entry.BytesDown} ");
        line.Append(Token(entry.Method)).Append(' ');
        line.Append(Token(entry.Target)).Append(' ');
        line.Append(Token(entry.User)).Append(' ');
        if (entry.Upstream is { } upstream)
        {
            line.Append(CultureInfo.InvariantCulture, $"HIER_DIRECT/{upstream} ");
        }
        else
        {
            line.Append("HIER_NONE/- ");
        }

        line.Append(Token(MediaType(entry.ContentType))).Append(' ');
        if (string.Equals(entry.Decision, DecisionLabels.WouldDeny, StringComparison.Ordinal))
        {
            line.Append(WouldDenyTag).Append(Token(entry.Rule ?? DecisionLabels.DefaultRule)).Append(' ');
        }
        else
        {
            line.Append(Token(entry.Rule)).Append(' ');
        }

        line.Append(ProxyErrorResponses.Code(entry.Error));
    }

    // Squid's suffix for a transaction the client left before it completed.
    private static string Aborted(AccessLogEntry entry) => entry.ClientAborted ? "_ABORTED" : string.Empty;

    public static void WriteJson(Utf8JsonWriter json, AccessLogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(entry);
        json.WriteStartObject();
        json.WriteString("time", entry.Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        json.WriteNumber("duration_ms", Math.Round(entry.Duration.TotalMilliseconds, 3));
        json.WriteString("client", entry.Client?.ToString());
        json.WriteString("user", entry.User);
        json.WriteString("method", entry.Method);
        json.WriteString("target", entry.Target);
        json.WriteString("destination", entry.Destination?.ToString());
        json.WriteString("kind", entry.Tunnel ? "tunnel" : "http");
        json.WriteString("result", $"{ProxyErrorResponses.SquidTag(entry.Error, entry.Tunnel)}{Aborted(entry)}/{entry.Status:D3}");
        json.WriteNumber("status", entry.Status);
        json.WriteString("decision", entry.Decision);
        json.WriteString("rule", entry.Rule);
        json.WriteString("reason", entry.Reason);
        json.WriteString("error", entry.Error == ProxyError.None ? null : ProxyErrorResponses.Code(entry.Error));
        json.WriteString("detail", entry.Detail);
        json.WriteString("upstream", entry.Upstream?.ToString());
        json.WriteString("sni", entry.Sni);
        json.WriteNumber("bytes_up", entry.BytesUp);
        json.WriteNumber("bytes_down", entry.BytesDown);
        json.WriteNumber("dns_ms", Math.Round(entry.DnsTime.TotalMilliseconds, 3));
        json.WriteNumber("connect_ms", Math.Round(entry.ConnectTime.TotalMilliseconds, 3));
        json.WriteString("content_type", entry.ContentType);
        json.WriteEndObject();
    }

    public static string Format(AccessLogEntry entry, AccessLogFormat format)
    {
        if (format == AccessLogFormat.Json)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                WriteJson(json, entry);
            }

            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        var line = new StringBuilder(192);
        WriteSquid(line, entry);
        return line.ToString();
    }

    // Squid's %mt is the media type alone, without parameters such as charset.
    private static string? MediaType(string? contentType)
    {
        var semicolon = contentType?.IndexOf(';', StringComparison.Ordinal) ?? -1;
        return semicolon < 0 ? contentType : contentType![..semicolon].Trim();
    }

    // Squid writes "-" for an absent field; a field must never contain the separator.
    private static string Token(string? value) =>
        string.IsNullOrEmpty(value) ? "-" : value.AsSpan().IndexOfAny(" \t\r\n") >= 0 ? Uri.EscapeDataString(value) : value;
}
