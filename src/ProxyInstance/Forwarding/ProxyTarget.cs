using System.Globalization;

namespace EgressLab.ProxyInstance.Forwarding;

internal enum ProxyTargetError
{
    None,

    /// <summary>Origin-form (<c>/path</c>): the client talked to the proxy as if it were the server.</summary>
    NotAbsolute,

    /// <summary>A scheme other than <c>http</c> (HTTPS goes through CONNECT).</summary>
    UnsupportedScheme,

    /// <summary>The authority is empty, carries userinfo, or has a bad port.</summary>
    InvalidAuthority,
}

/// <summary>
/// The destination of an absolute-form request (RFC 9112 §3.2.2), split from the raw request target so that
/// the host is seen exactly as the client wrote it (the SSRF guard must see <c>0x7f.1</c>, not a cleaned-up form)
/// and the path and query are forwarded byte for byte.
/// </summary>
internal readonly record struct ProxyTarget(string Host, int Port, string PathAndQuery, bool HostIsBracketed)
{
    public static ProxyTargetError TryParse(string rawTarget, out ProxyTarget target)
    {
        target = default;
        const string http = "http://";
        if (!rawTarget.StartsWith(http, StringComparison.OrdinalIgnoreCase))
        {
            if (rawTarget.Length > 0 && (rawTarget[0] == '/' || rawTarget == "*"))
            {
                return ProxyTargetError.NotAbsolute;
            }

            return rawTarget.Contains("://", StringComparison.Ordinal) ? ProxyTargetError.UnsupportedScheme : ProxyTargetError.NotAbsolute;
        }

        var rest = rawTarget.AsSpan(http.Length);
        var end = rest.IndexOfAny('/', '?', '#');
        var authority = end < 0 ? rest : rest[..end];
        var pathAndQuery = end < 0 ? "/" : rest[end] == '?' ? "/" + rest[end..].ToString() : rest[end..].ToString();
        var fragment = pathAndQuery.IndexOf('#', StringComparison.Ordinal);
        if (fragment >= 0)
        {
            // A fragment is never sent to a server (RFC 9110 §4.2.5).
            pathAndQuery = pathAndQuery[..fragment];
        }

        // userinfo in an http URI is deprecated (RFC 9110 §4.2.4) and a classic way to disguise a host.
        if (authority.IsEmpty || authority.Contains('@'))
        {
            return ProxyTargetError.InvalidAuthority;
        }

        ReadOnlySpan<char> host;
        ReadOnlySpan<char> portText;
        var bracketed = authority[0] == '[';
        if (bracketed)
        {
            var close = authority.IndexOf(']');
            if (close < 0)
            {
                return ProxyTargetError.InvalidAuthority;
            }

            host = authority[1..close];
            var after = authority[(close + 1)..];
            if (!after.IsEmpty && after[0] != ':')
            {
                return ProxyTargetError.InvalidAuthority;
            }

            portText = after.IsEmpty ? [] : after[1..];
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            portText = colon < 0 ? [] : authority[(colon + 1)..];
            if (host.Contains(':'))
            {
                return ProxyTargetError.InvalidAuthority;
            }
        }

        var port = 80;
        if (portText.Length > 0)
        {
            // RFC 3986 §3.2.3: port = *DIGIT. No sign, no spaces; 0 is not a port we connect to.
            if (portText.Length > 5 || portText.ContainsAnyExceptInRange('0', '9')
                || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                return ProxyTargetError.InvalidAuthority;
            }
        }

        if (host.IsEmpty)
        {
            return ProxyTargetError.InvalidAuthority;
        }

        target = new ProxyTarget(host.ToString(), port, pathAndQuery, bracketed);
        return ProxyTargetError.None;
    }
}
