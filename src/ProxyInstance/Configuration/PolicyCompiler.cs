using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using EgressLab.ProxyInstance.Policy;

namespace EgressLab.ProxyInstance.Configuration;

/// <summary>Validates <see cref="PolicyOptions"/> and compiles them into a <see cref="CompiledPolicy"/>.</summary>
internal static class PolicyCompiler
{
    /// <summary>
    /// Compiles <paramref name="options"/> into an immutable policy. Every problem is added to
    /// <paramref name="errors"/>, not just the first, each at its key path under <paramref name="sectionPath"/>
    /// (e.g. <c>Proxy:Policy:Rules:2:Domains:0</c>).
    /// </summary>
    /// <returns><see langword="true"/> when no error was found.</returns>
    public static bool TryCompile(
        PolicyOptions options,
        string sectionPath,
        List<ConfigError> errors,
        [NotNullWhen(true)] out CompiledPolicy? policy)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(errors);
        policy = null;
        var errorsBefore = errors.Count;

        var defaultAction = PolicyAction.Deny;
        if (options.DefaultAction is not null)
        {
            if (!TryParseAction(options.DefaultAction, out defaultAction))
            {
                errors.Add(new(Join(sectionPath, "DefaultAction"), ActionMessage(options.DefaultAction)));
            }
        }

        var sniMode = SniMode.Require;
        if (options.RequireSniMatch is not null && !TryParseSniMode(options.RequireSniMatch, out sniMode))
        {
            errors.Add(new(
                Join(sectionPath, "RequireSniMatch"),
                $"'{options.RequireSniMatch}' is not a valid SNI mode; use 'Require' (or 'true'), 'AllowMissing', or 'Off' (or 'false')"));
        }

        var otherProtocols = sniMode == SniMode.Require ? PolicyAction.Deny : PolicyAction.Allow;
        if (options.OtherTunnelProtocols is not null && !TryParseAction(options.OtherTunnelProtocols, out otherProtocols))
        {
            errors.Add(new(
                Join(sectionPath, "OtherTunnelProtocols"),
                $"'{options.OtherTunnelProtocols}' is not a valid choice; use 'Deny' (tunnels must carry TLS or HTTP/1.x) or 'Allow' (other protocols are relayed unchecked)"));
        }

        var mode = PolicyMode.Enforce;
        if (options.Mode is not null && !TryParseMode(options.Mode, out mode))
        {
            errors.Add(new(Join(sectionPath, "Mode"), ModeMessage(options.Mode)));
        }

        var reportSources = ParseCidrs(options.ReportSources, Join(sectionPath, "ReportSources"), errors);

        // Unlike rule conditions, an empty list here is the documented default: no exemptions.
        var allowedPrivate = options.AllowedPrivateDestinations is null
            ? []
            : ParseCidrEntries(options.AllowedPrivateDestinations, Join(sectionPath, "AllowedPrivateDestinations"), errors);

        var rulesPath = Join(sectionPath, "Rules");
        var rules = new List<CompiledRule>(options.Rules?.Count ?? 0);
        var firstIndexByName = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < (options.Rules?.Count ?? 0); i++)
        {
            var rule = CompileRule(options.Rules![i], Join(rulesPath, i), i, firstIndexByName, errors);
            if (rule is not null)
            {
                rules.Add(rule);
            }
        }

        if (errors.Count != errorsBefore)
        {
            return false;
        }

        policy = new CompiledPolicy(rules, defaultAction, options.DenyPrivateDestinations ?? true, allowedPrivate, sniMode, otherProtocols, mode, reportSources);
        return true;
    }

    private static CompiledRule? CompileRule(
        RuleOptions? options, string path, int index, Dictionary<string, int> firstIndexByName, List<ConfigError> errors)
    {
        if (options is null)
        {
            errors.Add(new(path, "a rule must not be empty; give it at least a Name and an Action"));
            return null;
        }

        var errorsBefore = errors.Count;
        var name = options.Name;
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add(new(Join(path, "Name"), "every rule needs a non-empty Name; it is reported in logs, metrics and error responses"));
        }
        else if (name.AsSpan().ContainsAnyInRange('\0', '\u001f') || name.Contains('\u007f', StringComparison.Ordinal))
        {
            errors.Add(new(Join(path, "Name"), $"rule name '{name}' contains a control character; use printable characters only"));
        }
        else if (!firstIndexByName.TryAdd(name, index))
        {
            errors.Add(new(
                Join(path, "Name"),
                $"rule name '{name}' is already used by rule {firstIndexByName[name]}; rule names must be unique (compared ignoring case)"));
        }

        var action = PolicyAction.Deny;
        if (options.Action is null)
        {
            errors.Add(new(Join(path, "Action"), "every rule needs an Action: 'Allow' or 'Deny'"));
        }
        else if (!TryParseAction(options.Action, out action))
        {
            errors.Add(new(Join(path, "Action"), ActionMessage(options.Action)));
        }

        PolicyMode? mode = null;
        if (options.Mode is not null)
        {
            if (!TryParseMode(options.Mode, out var parsed))
            {
                errors.Add(new(Join(path, "Mode"), ModeMessage(options.Mode)));
            }
            else if (action == PolicyAction.Allow && options.Action is not null)
            {
                // An Allow rule lets requests through in either mode; a Mode there would suggest otherwise.
                errors.Add(new(
                    Join(path, "Mode"),
                    "Mode applies to Deny rules only, and an Allow rule lets requests through in either mode; remove Mode from this rule, "
                    + "and set Policy.Mode to 'Report' to see what the rest of the policy would deny"));
            }
            else
            {
                mode = parsed;
            }
        }

        var sources = ParseCidrs(options.Sources, Join(path, "Sources"), errors);
        var domains = ParseDomains(options.Domains, Join(path, "Domains"), options.AllowPublicSuffixWildcards ?? false, errors);
        var destinationCidrs = ParseCidrs(options.DestinationCidrs, Join(path, "DestinationCidrs"), errors);
        var ports = ParsePorts(options.Ports, Join(path, "Ports"), errors);
        var methods = ParseMethods(options.Methods, Join(path, "Methods"), errors);
        var users = ParseUsers(options.Users, Join(path, "Users"), errors);

        if (errors.Count != errorsBefore)
        {
            return null;
        }

        return new CompiledRule(name!, action, sources, domains, destinationCidrs, ports, methods, users, mode);
    }

    private static bool CheckList<T>([NotNullWhen(true)] List<T>? list, string path, List<ConfigError> errors)
    {
        if (list is null)
        {
            return false;
        }

        if (list.Count == 0)
        {
            // Empty would read as "matches nothing" to some and "matches anything" to others; make the author say which.
            errors.Add(new(path, "an empty list is ambiguous; leave the key out to match anything, or list at least one entry"));
            return false;
        }

        return true;
    }

    private static IPNetwork[]? ParseCidrs(List<string>? texts, string path, List<ConfigError> errors) =>
        CheckList(texts, path, errors) ? ParseCidrEntries(texts, path, errors) : null;

    private static IPNetwork[] ParseCidrEntries(List<string> texts, string path, List<ConfigError> errors)
    {
        var networks = new List<IPNetwork>(texts.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            if (CidrNotation.TryParse(texts[i], out var network, out var error))
            {
                if (!networks.Contains(network))
                {
                    networks.Add(network);
                }
            }
            else
            {
                errors.Add(new(Join(path, i), error));
            }
        }

        return [.. networks];
    }

    private static DomainSet? ParseDomains(List<string>? texts, string path, bool allowPrivateSuffixes, List<ConfigError> errors)
    {
        if (!CheckList(texts, path, errors))
        {
            return null;
        }

        var patterns = new List<DomainPattern>(texts.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            if (DomainPattern.TryParse(texts[i], out var pattern, out var error))
            {
                if (PublicSuffixError(texts[i], pattern, allowPrivateSuffixes) is { } suffixError)
                {
                    errors.Add(new(Join(path, i), suffixError));
                }

                patterns.Add(pattern);
            }
            else
            {
                errors.Add(new(Join(path, i), error));
            }
        }

        return new DomainSet(patterns);
    }

    /// <summary>
    /// Says why a pattern that covers every name under a public suffix (<c>.co.uk</c>, <c>*.github.io</c>) is refused,
    /// and what to write instead; null for any other pattern. An exact name is never refused: it is one host.
    /// </summary>
    private static string? PublicSuffixError(string text, DomainPattern pattern, bool allowPrivateSuffixes)
    {
        if (pattern.Kind == DomainPatternKind.Exact || !PublicSuffixList.Embedded.TryMatch(pattern.Name, out var match))
        {
            return null;
        }

        var list = $"the Public Suffix List of {PublicSuffixList.Embedded.Date}";
        var under = match.Children
            ? $"every name under '{pattern.Name}', where each name one level down ('{match.Suffix}') is a public suffix"
            : $"every name registered under the public suffix '{pattern.Name}'";
        var example = match.Children ? $"'.example.something.{pattern.Name}'" : $"'.example.{pattern.Name}'";
        if (match.Section == PublicSuffixSection.Icann)
        {
            return $"'{text}' would allow {under} (ICANN section of {list}); list the registrable domains you mean, e.g. {example}";
        }

        return allowPrivateSuffixes
            ? null
            : $"'{text}' would allow {under}, where anyone can get a name (private section of {list}); "
                + $"list the names you mean, e.g. {example}, or set AllowPublicSuffixWildcards: true on this rule if every one of them is meant";
    }

    private static List<int>? ParsePorts(List<int>? ports, string path, List<ConfigError> errors)
    {
        if (!CheckList(ports, path, errors))
        {
            return null;
        }

        for (var i = 0; i < ports.Count; i++)
        {
            if (ports[i] is < 1 or > 65535)
            {
                errors.Add(new(Join(path, i), $"{ports[i]} is not a valid port; ports are numbers from 1 to 65535"));
            }
        }

        return ports;
    }

    private static List<string>? ParseMethods(List<string>? texts, string path, List<ConfigError> errors)
    {
        if (!CheckList(texts, path, errors))
        {
            return null;
        }

        var methods = new List<string>(texts.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            var text = texts[i];
            if (string.IsNullOrEmpty(text) || !IsToken(text))
            {
                errors.Add(new(
                    Join(path, i),
                    $"'{text}' is not a valid HTTP method; a method is a token (RFC 9110 section 9.1), such as 'GET' or 'CONNECT'"));
                continue;
            }

            // Methods are case-sensitive (RFC 9110 section 9.1) and every registered one is upper case, so
            // configuration written in any case means the upper-case method.
            methods.Add(text.ToUpperInvariant());
        }

        return methods;
    }

    private static List<string>? ParseUsers(List<string>? texts, string path, List<ConfigError> errors)
    {
        if (!CheckList(texts, path, errors))
        {
            return null;
        }

        for (var i = 0; i < texts.Count; i++)
        {
            if (string.IsNullOrEmpty(texts[i]))
            {
                errors.Add(new(Join(path, i), "a user name must not be empty"));
            }
        }

        return texts;
    }

    private static bool TryParseAction(string text, out PolicyAction action)
    {
        if (string.Equals(text, "Allow", StringComparison.OrdinalIgnoreCase))
        {
            action = PolicyAction.Allow;
            return true;
        }

        action = PolicyAction.Deny;
        return string.Equals(text, "Deny", StringComparison.OrdinalIgnoreCase);
    }

    private static string ActionMessage(string text) => $"'{text}' is not a valid action; use 'Allow' or 'Deny'";

    private static bool TryParseMode(string text, out PolicyMode mode)
    {
        if (string.Equals(text, "Report", StringComparison.OrdinalIgnoreCase))
        {
            mode = PolicyMode.Report;
            return true;
        }

        mode = PolicyMode.Enforce;
        return string.Equals(text, "Enforce", StringComparison.OrdinalIgnoreCase);
    }

    private static string ModeMessage(string text) =>
        $"'{text}' is not a valid mode; use 'Enforce' (denials refuse the request) or 'Report' (denials are logged as would_deny and the request goes through)";

    private static bool TryParseSniMode(string text, out SniMode mode)
    {
        if (text.Equals("Require", StringComparison.OrdinalIgnoreCase) || text.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            mode = SniMode.Require;
            return true;
        }

        if (text.Equals("AllowMissing", StringComparison.OrdinalIgnoreCase))
        {
            mode = SniMode.AllowMissing;
            return true;
        }

        mode = SniMode.Off;
        return text.Equals("Off", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase);
    }

    // token = 1*tchar (RFC 9110 section 5.6.2).
    private static bool IsToken(string text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return true;
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}:{key}";

    private static string Join(string path, int index) => Join(path, index.ToString(CultureInfo.InvariantCulture));
}
