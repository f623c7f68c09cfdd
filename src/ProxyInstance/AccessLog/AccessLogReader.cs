using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Text.Json;
using EgressLab.ProxyInstance.Admission;
using EgressLab.ProxyInstance.Errors;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.AccessLog;

/// <summary>What the policy made of a logged request, as far as its line tells.</summary>
internal enum LoggedDecision
{
    /// <summary>The request never reached the policy (malformed, unauthenticated, over a limit).</summary>
    NotJudged,

    /// <summary>The policy allowed it.</summary>
    Allowed,

    /// <summary>The policy denied it and the client was refused.</summary>
    Denied,

    /// <summary>The policy would have denied it, but report mode let it through.</summary>
    WouldDeny,
}

/// <summary>One request or tunnel as read back from an access log line.</summary>
/// <param name="Time">When it began.</param>
/// <param name="Client">The client's address; null when the line has none (<c>-</c>).</param>
/// <param name="User">The authenticated user, or null.</param>
/// <param name="Method">The method; <c>CONNECT</c> for a tunnel.</param>
/// <param name="Target">The destination in canonical form; null when the line's target is not a valid host and port.</param>
/// <param name="Decision">What the policy decided.</param>
/// <param name="Rule">The rule the line names, or null.</param>
internal sealed record LoggedRequest(DateTimeOffset Time, IPAddress? Client, string? User, string Method, EgressTarget? Target, LoggedDecision Decision, string? Rule)
{
    public bool Tunnel => Method == "CONNECT";

    /// <summary>Whether the client got through the policy: allowed, or let through by report mode.</summary>
    public bool WentThrough => Decision is LoggedDecision.Allowed or LoggedDecision.WouldDeny;
}

/// <summary>
/// Reads back the lines <see cref="AccessLogFormatter"/> writes, in either format, one line at a time; the format is
/// told by the line (a JSON line starts with <c>{</c>), so a file may mix them.
/// </summary>
/// <remarks>
/// Lenient where a later version of the proxy may add to a line: Squid lines may carry fields after the twelfth and
/// JSON lines may carry more properties. A field or property that says <c>would-deny</c> (any case, <c>-</c> or
/// <c>_</c>) marks a request report mode let through. Squid's own ten-field lines are read too: a <c>TCP_DENIED</c>
/// tag is then taken as a policy refusal, as Squid's access rules are the only refusal it logs that way.
/// </remarks>
internal static class AccessLogReader
{
    private const int SquidFields = 10;
    private const int ProxySquidFields = 12;

    // Refusals that come before the policy runs; every other outcome was judged by it.
    private static readonly HashSet<string> BeforePolicyCodes = new(
        new[]
        {
            ProxyError.InvalidRequest, ProxyError.RequestHeadTooLarge, ProxyError.RequestLineTooLong, ProxyError.VersionNotSupported,
            ProxyError.RequestHeadersTimeout, ProxyError.AuthenticationRequired, ProxyError.TooManyConnections, ProxyError.RateLimited,
        }.Select(ProxyErrorResponses.Code),
        StringComparer.Ordinal);

    private static readonly string AccessDeniedCode = ProxyErrorResponses.Code(ProxyError.AccessDenied);

    /// <summary>Parses one line; on failure <paramref name="error"/> says what is wrong with it.</summary>
    public static bool TryParse(string line, [NotNullWhen(true)] out LoggedRequest? request, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(line);
        var trimmed = line.AsSpan().Trim();
        return trimmed.StartsWith("{")
            ? TryParseJson(line, out request, out error)
            : TryParseSquid(line, out request, out error);
    }

    private static bool TryParseSquid(string line, [NotNullWhen(true)] out LoggedRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < SquidFields)
        {
            error = $"a Squid-format line has at least {SquidFields} space-separated fields, this one {fields.Length}";
            return false;
        }

        if (!decimal.TryParse(fields[0], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
            || seconds > 253402300799m)
        {
            error = $"the first field, '{fields[0]}', is not a Unix time in seconds such as 1795257471.661";
            return false;
        }

        if (!TryParseClient(fields[2], out var client))
        {
            error = $"the third field, '{fields[2]}', is not a client address";
            return false;
        }

        var slash = fields[3].IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            error = $"the fourth field, '{fields[3]}', is not a result such as TCP_MISS/200";
            return false;
        }

        var tag = fields[3][..slash];
        var method = fields[5];
        var user = Unescape(fields[7]);
        var target = ParseTarget(method, Unescape(fields[6]) ?? string.Empty);
        string? rule = null;
        LoggedDecision decision;
        if (fields.Length >= ProxySquidFields)
        {
            rule = Unescape(fields[10]);
            var code = fields[11];
            // Report mode writes the rule that would have denied as WOULD_DENY:rule, or WOULD_DENY:default.
            var reported = rule is not null && rule.StartsWith(AccessLogFormatter.WouldDenyTag, StringComparison.Ordinal);
            if (reported)
            {
                var wouldDeny = rule![AccessLogFormatter.WouldDenyTag.Length..];
                rule = wouldDeny == DecisionLabels.DefaultRule ? null : wouldDeny;
            }

            decision = reported || fields.Skip(11).Any(IsWouldDenyMarker) ? LoggedDecision.WouldDeny
                : code == AccessDeniedCode ? LoggedDecision.Denied
                : BeforePolicyCodes.Contains(code) ? LoggedDecision.NotJudged
                : LoggedDecision.Allowed;
        }
        else
        {
            decision = tag.StartsWith("TCP_DENIED", StringComparison.Ordinal) ? LoggedDecision.Denied
                : tag.StartsWith("NONE", StringComparison.Ordinal) ? LoggedDecision.NotJudged
                : LoggedDecision.Allowed;
        }

        var time = DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));
        request = new LoggedRequest(time, client, user, method, target, decision, rule);
        error = null;
        return true;
    }

    private static bool TryParseJson(string line, [NotNullWhen(true)] out LoggedRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            error = $"it starts with '{{' but is not valid JSON: {ex.Message.Split(" Path:", 2)[0]}";
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "a JSON line must be an object";
                return false;
            }

            if (!TryString(root, "time", out var timeText) || !DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                error = "it has no \"time\" in ISO 8601 form";
                return false;
            }

            if (!TryString(root, "method", out var method) || method.Length == 0)
            {
                error = "it has no \"method\"";
                return false;
            }

            TryString(root, "client", out var clientText);
            if (!TryParseClient(clientText ?? "-", out var client))
            {
                error = $"\"client\" '{clientText}' is not an address";
                return false;
            }

            TryString(root, "user", out var user);
            TryString(root, "rule", out var rule);
            TryString(root, "error", out var code);
            EgressTarget? target = null;
            if (TryString(root, "destination", out var destination))
            {
                target = ParseAuthority(destination, defaultPort: null);
            }
            else if (TryString(root, "target", out var targetText))
            {
                target = ParseTarget(method, targetText);
            }

            TryString(root, "decision", out var decisionText);
            LoggedDecision decision;
            if (HasWouldDenyMarker(root))
            {
                decision = LoggedDecision.WouldDeny;
            }
            else
            {
                switch (decisionText)
                {
                    case "allow":
                        decision = LoggedDecision.Allowed;
                        break;
                    case "deny":
                        // A denial the client was not refused for is one report mode let through.
                        decision = code == AccessDeniedCode ? LoggedDecision.Denied : LoggedDecision.WouldDeny;
                        break;
                    case "none" or null:
                        decision = LoggedDecision.NotJudged;
                        break;
                    default:
                        error = $"\"decision\" '{decisionText}' is none of allow, deny, none";
                        return false;
                }
            }

            request = new LoggedRequest(time, client, user, method, target, decision, rule);
            error = null;
            return true;
        }
    }

    private static bool TryString(JsonElement root, string name, [NotNullWhen(true)] out string? value)
    {
        value = root.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.String ? property.GetString() : null;
        return value is not null;
    }

    private static bool HasWouldDenyMarker(JsonElement root)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String && IsWouldDenyMarker(property.Value.GetString()!))
            {
                return true;
            }

            if (property.Value.ValueKind == JsonValueKind.True && IsWouldDenyMarker(property.Name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a field says <c>would-deny</c>, in whatever spelling (<c>WOULD_DENY</c>, <c>would-deny:rule</c>, <c>wouldDeny</c>).</summary>
    private static bool IsWouldDenyMarker(string text)
    {
        var letters = new string([.. text.Where(char.IsAsciiLetter).Take(9)]);
        return letters.Equals("woulddeny", StringComparison.OrdinalIgnoreCase);
    }

    private static bool TryParseClient(string text, out IPAddress? client)
    {
        client = null;
        if (text == "-")
        {
            return true;
        }

        if (!IPAddress.TryParse(text, out var address))
        {
            return false;
        }

        client = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return true;
    }

    /// <summary>
    /// The Squid format percent-encodes a field that would contain whitespace, and only such a field: one with an
    /// encoded space, tab, CR or LF was encoded; any other is as it was, '%' and all.
    /// </summary>
    private static string? Unescape(string field)
    {
        if (field == "-")
        {
            return null;
        }

        foreach (var encoded in (ReadOnlySpan<string>)["%20", "%09", "%0D", "%0A"])
        {
            if (field.Contains(encoded, StringComparison.OrdinalIgnoreCase))
            {
                return Uri.UnescapeDataString(field);
            }
        }

        return field;
    }

    /// <summary>A CONNECT target is <c>host:port</c>; any other is an absolute URL whose scheme gives the default port.</summary>
    private static EgressTarget? ParseTarget(string method, string target)
    {
        if (method == "CONNECT")
        {
            return ParseAuthority(target, defaultPort: null);
        }

        var schemeEnd = target.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return null;
        }

        var scheme = target[..schemeEnd].ToUpperInvariant();
        int? defaultPort = scheme switch
        {
            "HTTP" or "WS" => 80,
            "HTTPS" or "WSS" => 443,
            _ => null,
        };
        var rest = target[(schemeEnd + 3)..];
        var end = rest.IndexOfAny(['/', '?', '#']);
        return ParseAuthority(end < 0 ? rest : rest[..end], defaultPort);
    }

    private static EgressTarget? ParseAuthority(string authority, int? defaultPort)
    {
        string host;
        string? portText = null;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return null;
            }

            host = authority[1..close];
            var after = authority[(close + 1)..];
            if (after.Length > 0)
            {
                if (after[0] != ':')
                {
                    return null;
                }

                portText = after[1..];
            }
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            portText = colon < 0 ? null : authority[(colon + 1)..];
        }

        int port;
        if (portText is null or "")
        {
            if (defaultPort is null)
            {
                return null;
            }

            port = defaultPort.Value;
        }
        else if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port))
        {
            return null;
        }

        return host.Length > 0 && EgressTarget.TryCreate(host, port, out var target) ? target : null;
    }
}
