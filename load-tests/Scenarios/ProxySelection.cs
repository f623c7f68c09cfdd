using System.Net;

namespace EgressLab.LoadTests.Scenarios;

/// <summary>The proxy a run goes through, and where that choice came from (for the report).</summary>
/// <param name="Proxy">The proxy's URL (always http://host:port), or null to connect directly.</param>
/// <param name="Source"><c>--proxy</c>, the environment variable it came from, or why the run is direct.</param>
internal sealed record ProxyChoice(Uri? Proxy, string Source);

/// <summary>
/// Chooses the proxy as curl does: <c>--proxy</c> if given (<c>--proxy direct</c> forces a direct connection), else
/// <c>http_proxy</c> for http targets (lowercase only, as curl: an uppercase HTTP_PROXY can be set by a CGI request
/// header), <c>https_proxy</c> or <c>HTTPS_PROXY</c> for https, then <c>all_proxy</c> or <c>ALL_PROXY</c>; a target
/// listed in <c>no_proxy</c> or <c>NO_PROXY</c> goes direct. Only plain-HTTP proxies: https targets go through CONNECT.
/// </summary>
internal static class ProxySelection
{
    /// <summary>The value of <c>--proxy</c> that forces a direct connection whatever the environment says.</summary>
    public const string Direct = "direct";

    // curl's default when a proxy is given without a port.
    private const int DefaultProxyPort = 1080;

    public static bool TryChoose(Uri target, string? proxyOption, Func<string, string?> environment, out ProxyChoice? choice, out string? error)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(environment);
        choice = null;
        if (proxyOption is not null)
        {
            if (string.Equals(proxyOption.Trim(), Direct, StringComparison.OrdinalIgnoreCase))
            {
                choice = new ProxyChoice(null, "--proxy direct");
                error = null;
                return true;
            }

            if (!TryParseProxy(proxyOption, "--proxy", out var explicitProxy, out error))
            {
                return false;
            }

            choice = new ProxyChoice(explicitProxy, "--proxy");
            return true;
        }

        string[] variables = target.Scheme == Uri.UriSchemeHttps
            ? ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
            : ["http_proxy", "all_proxy", "ALL_PROXY"];
        foreach (var variable in variables)
        {
            var value = environment(variable);
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            var noProxy = environment("no_proxy") ?? environment("NO_PROXY");
            if (IsExcluded(target.IdnHost, noProxy))
            {
                choice = new ProxyChoice(null, $"no_proxy excludes {target.IdnHost}");
                error = null;
                return true;
            }

            if (!TryParseProxy(value, $"the environment variable {variable}", out var proxy, out error))
            {
                return false;
            }

            choice = new ProxyChoice(proxy, variable);
            return true;
        }

        choice = new ProxyChoice(null, "no --proxy and no proxy variable set");
        error = null;
        return true;
    }

    /// <summary>
    /// Whether <paramref name="host"/> matches a <c>no_proxy</c> list: <c>*</c> matches everything; a name matches itself and
    /// its subdomains (a leading dot is optional); an address matches itself or a CIDR range holding it.
    /// </summary>
    public static bool IsExcluded(string host, string? noProxy)
    {
        if (string.IsNullOrWhiteSpace(noProxy))
        {
            return false;
        }

        var name = host.Trim('[', ']').TrimEnd('.');
        var address = IPAddress.TryParse(name, out var parsed) ? parsed : null;
        foreach (var raw in noProxy.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            var entry = raw.Trim('[', ']').TrimStart('.').TrimEnd('.');
            if (entry == "*")
            {
                return true;
            }

            if (entry.Length == 0)
            {
                continue;
            }

            if (address is not null)
            {
                if ((IPNetwork.TryParse(entry, out var network) && network.Contains(address))
                    || (IPAddress.TryParse(entry, out var listed) && listed.Equals(address)))
                {
                    return true;
                }

                continue;
            }

            if (string.Equals(name, entry, StringComparison.OrdinalIgnoreCase)
                || name.EndsWith("." + entry, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryParseProxy(string value, string from, out Uri? proxy, out string? error)
    {
        proxy = null;
        var text = value.Trim();
        var scheme = Uri.UriSchemeHttp;
        var rest = text;
        var separator = text.IndexOf("://", StringComparison.Ordinal);
        if (separator >= 0)
        {
            scheme = text[..separator].ToLowerInvariant();
            rest = text[(separator + 3)..];
        }

        if (scheme != Uri.UriSchemeHttp)
        {
            error = $"{from} '{text}': only plain HTTP proxies are supported (http://HOST:PORT); https targets go through CONNECT on it.";
            return false;
        }

        // An unregistered scheme leaves the port at -1 when none is written, so curl's default can apply.
        if (!Uri.TryCreate("origin://" + rest, UriKind.Absolute, out var parsed) || parsed.Host.Length == 0)
        {
            error = $"{from} '{text}' is not a proxy address: give http://HOST:PORT (for example http://10.10.2.200:3128), or '{Direct}' to connect directly.";
            return false;
        }

        if (parsed.UserInfo.Length > 0)
        {
            error = $"{from} '{text}': credentials in the proxy URL are not supported; give http://HOST:PORT.";
            return false;
        }

        proxy = new UriBuilder(Uri.UriSchemeHttp, parsed.Host, parsed.Port >= 0 ? parsed.Port : DefaultProxyPort).Uri;
        error = null;
        return true;
    }
}
