using System.Globalization;

namespace EgressLab.LoadTests.Scenarios;

/// <summary>
/// Turns <c>--url</c> (the origin: a host, host:port, or a URL, with an optional path prefix) into the URL a scenario
/// requests. Each scenario uses its own scheme (http-small http; https-small and new-connection https; bulk and upload
/// the scheme written in --url, else http), so one --url serves every scenario. A port applies to the scheme it was
/// written with (or, with no scheme written, to every scenario); a scenario that must switch to the other scheme uses
/// that scheme's default port, and refuses a URL whose written port belongs to the other scheme.
/// </summary>
internal static class OriginTarget
{
    public const string Forms = "a host (www.lab.test), host:port, or a URL such as http://www.lab.test or https://127.0.0.1:8443, optionally with a path prefix";

    public static bool TryResolve(string? url, ScenarioKind scenario, out Uri? target, out string? error)
    {
        target = null;
        var text = url?.Trim() ?? string.Empty;
        if (text.Length == 0)
        {
            error = $"--url is empty: give the origin as {Forms}.";
            return false;
        }

        string? writtenScheme = null;
        var rest = text;
        var separator = text.IndexOf("://", StringComparison.Ordinal);
        if (separator >= 0)
        {
            writtenScheme = text[..separator].ToLowerInvariant();
            rest = text[(separator + 3)..];
            if (writtenScheme is not ("http" or "https"))
            {
                error = $"--url '{text}': the scheme '{writtenScheme}' is not supported; use http:// or https:// (or no scheme).";
                return false;
            }
        }

        // An unregistered scheme leaves the port at -1 when none is written, which tells "no port" from ":80".
        if (!Uri.TryCreate("origin://" + rest, UriKind.Absolute, out var parsed) || parsed.Host.Length == 0)
        {
            error = $"--url '{text}' is not a valid origin: give {Forms}.";
            return false;
        }

        if (parsed.UserInfo.Length > 0 || parsed.Query.Length > 0 || parsed.Fragment.Length > 0)
        {
            error = $"--url '{text}': user info, a query or a fragment is not allowed; give {Forms}.";
            return false;
        }

        var scheme = ScenarioCatalog.RequiredScheme(scenario) ?? writtenScheme ?? Uri.UriSchemeHttp;
        var port = scheme == Uri.UriSchemeHttps ? 443 : 80;
        if (parsed.Port >= 0)
        {
            if (writtenScheme is not null && writtenScheme != scheme)
            {
                error = $"--url '{text}': port {parsed.Port.ToString(CultureInfo.InvariantCulture)} is given for {writtenScheme}, " +
                    $"but {ScenarioCatalog.NameOf(scenario)} speaks {scheme}: give a {scheme}:// URL with the {scheme} port, or the host alone.";
                return false;
            }

            port = parsed.Port;
        }

        var prefix = parsed.AbsolutePath.TrimEnd('/');
        var builder = new UriBuilder(scheme, parsed.Host, port, prefix + ScenarioCatalog.PathOf(scenario));
        target = builder.Uri;
        error = null;
        return true;
    }
}
