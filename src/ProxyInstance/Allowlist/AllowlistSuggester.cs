using System.Globalization;
using System.Net;
using System.Text.Json;
using EgressLab.ProxyInstance.AccessLog;
using EgressLab.ProxyInstance.Configuration;

namespace EgressLab.ProxyInstance.Allowlist;

/// <summary>How suggestions generalise what was seen.</summary>
/// <param name="Siblings">Names directly below a parent that make it a <c>.parent</c> pattern; 0 for none.</param>
/// <param name="ClientPrefix">IPv4 client network size.</param>
/// <param name="ClientPrefix6">IPv6 client network size.</param>
internal readonly record struct SuggestionSettings(int Siblings, int ClientPrefix, int ClientPrefix6);

/// <summary>
/// Learns Allow rules from requests: one rule per site (registrable domain, or address), kind (tunnel or plain HTTP)
/// and set of ports, methods and client networks, so that a rule allows what was seen and little more.
/// </summary>
/// <remarks>
/// Tunnels and plain requests never share a rule, so a rule for <c>CONNECT</c> to 443 does not also allow
/// <c>GET</c> to 443. Every rule lists its ports and methods explicitly. Addresses get <c>DestinationCidrs</c> of one
/// address each and are never generalised. The order is deterministic: by site, tunnels before plain HTTP, then
/// ports and clients; all rules allow, so order changes no decision.
/// </remarks>
internal sealed class AllowlistSuggester(SuggestionSettings settings)
{
    private readonly Dictionary<(bool Tunnel, string Host, bool IsAddress), Traffic> _byDestination = [];

    public int Requests { get; private set; }

    /// <summary>Counts one request in; it must have a target and a client.</summary>
    public void Add(LoggedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var target = request.Target ?? throw new ArgumentException("A request without a target cannot be learnt from.", nameof(request));
        var key = (request.Tunnel, target.Host, target.IsAddress);
        if (!_byDestination.TryGetValue(key, out var traffic))
        {
            _byDestination[key] = traffic = new Traffic();
        }

        traffic.Add(target.Port, request.Method, ClientNetworks.Of(request.Client!, settings.ClientPrefix, settings.ClientPrefix6));
        Requests++;
    }

    /// <summary>The rules, in their deterministic order.</summary>
    public List<RuleOptions> Suggest()
    {
        // Generalise names per kind: siblings seen only over CONNECT make a parent for tunnels only.
        var byPattern = new Dictionary<(bool Tunnel, string Pattern, bool IsAddress), Traffic>();
        foreach (var tunnel in new[] { true, false })
        {
            var names = _byDestination.Keys.Where(k => k.Tunnel == tunnel && !k.IsAddress).Select(k => k.Host);
            var patterns = ParentDomains.Collapse(names, settings.Siblings);
            foreach (var (key, traffic) in _byDestination.Where(d => d.Key.Tunnel == tunnel))
            {
                var pattern = key.IsAddress ? key.Host : patterns[key.Host];
                var patternKey = (tunnel, pattern, key.IsAddress);
                if (!byPattern.TryGetValue(patternKey, out var merged))
                {
                    byPattern[patternKey] = merged = new Traffic();
                }

                merged.Add(traffic);
            }
        }

        var groups = byPattern
            .Select(p => new
            {
                p.Key.Tunnel,
                p.Key.Pattern,
                p.Key.IsAddress,
                Site = p.Key.IsAddress ? p.Key.Pattern : ParentDomains.Site(p.Key.Pattern.TrimStart('.')),
                Ports = p.Value.Ports.Order().ToList(),
                Methods = p.Value.Methods.Order(StringComparer.Ordinal).ToList(),
                Sources = ClientNetworks.Merge(p.Value.Clients).Select(n => n.ToString()).ToList(),
            })
            .GroupBy(g => (g.Site, g.Tunnel, g.IsAddress, Ports: Joined(g.Ports), Methods: string.Join(',', g.Methods), Sources: string.Join(',', g.Sources)))
            .OrderBy(g => g.Key.Site, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Tunnel ? 0 : 1)
            .ThenBy(g => g.Key.Ports, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Methods, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Sources, StringComparer.Ordinal)
            .ToList();

        var rules = new List<RuleOptions>(groups.Count);
        foreach (var group in groups)
        {
            var first = group.First();
            var destinations = group.Select(g => g.IsAddress ? AddressCidr(g.Pattern) : g.Pattern).Order(StringComparer.Ordinal).ToList();
            rules.Add(new RuleOptions
            {
                Name = BaseName(group.Key.Site, group.Key.Tunnel),
                Action = "Allow",
                Sources = first.Sources,
                Domains = first.IsAddress ? null : destinations,
                DestinationCidrs = first.IsAddress ? destinations : null,
                Ports = first.Ports,
                Methods = first.Methods,
            });
        }

        NameUniquely(rules);
        return rules;
    }

    /// <summary>Writes <paramref name="rules"/> as a configuration file that <c>--check-config</c> accepts as it is.</summary>
    public static void Write(Utf8JsonWriter json, IReadOnlyList<RuleOptions> rules)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(rules);
        json.WriteStartObject();
        json.WriteStartObject(ProxyOptions.SectionName);
        json.WriteStartObject(nameof(ProxyOptions.Policy));
        json.WriteString(nameof(PolicyOptions.DefaultAction), "Deny");
        json.WriteStartArray(nameof(PolicyOptions.Rules));
        foreach (var rule in rules)
        {
            json.WriteStartObject();
            json.WriteString(nameof(RuleOptions.Name), rule.Name);
            json.WriteString(nameof(RuleOptions.Action), rule.Action);
            WriteList(json, nameof(RuleOptions.Sources), rule.Sources);
            WriteList(json, nameof(RuleOptions.Domains), rule.Domains);
            WriteList(json, nameof(RuleOptions.DestinationCidrs), rule.DestinationCidrs);
            json.WriteStartArray(nameof(RuleOptions.Ports));
            foreach (var port in rule.Ports ?? [])
            {
                json.WriteNumberValue(port);
            }

            json.WriteEndArray();
            WriteList(json, nameof(RuleOptions.Methods), rule.Methods);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteList(Utf8JsonWriter json, string name, List<string>? values)
    {
        if (values is null)
        {
            return;
        }

        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static string AddressCidr(string address) =>
        IPAddress.Parse(address).AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? $"{address}/32" : $"{address}/128";

    // "seen-example-com-connect": what was seen, under which site, over which kind of request.
    private static string BaseName(string site, bool tunnel) =>
        $"seen-{site.Replace('.', '-').Replace(':', '-')}-{(tunnel ? "connect" : "http")}";

    private static string Joined(IEnumerable<int> ports) => string.Join(',', ports.Select(p => p.ToString("D5", CultureInfo.InvariantCulture)));

    /// <summary>Rules of one site and kind that differ in ports get the ports in their names, then a counter if still alike.</summary>
    private static void NameUniquely(List<RuleOptions> rules)
    {
        foreach (var alike in rules.GroupBy(r => r.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).ToList())
        {
            foreach (var rule in alike)
            {
                rule.Name += "-" + string.Join('-', rule.Ports!);
            }
        }

        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var rule in rules)
        {
            var name = rule.Name!;
            for (var n = 2; !used.Add(name); n++)
            {
                name = string.Create(CultureInfo.InvariantCulture, $"{rule.Name}-{n}");
            }

            rule.Name = name;
        }
    }

    /// <summary>What was seen going to one destination (or pattern).</summary>
    private sealed class Traffic
    {
        public HashSet<int> Ports { get; } = [];
        public HashSet<string> Methods { get; } = new(StringComparer.Ordinal);
        public HashSet<IPNetwork> Clients { get; } = [];

        public void Add(int port, string method, IPNetwork client)
        {
            Ports.Add(port);
            Methods.Add(method);
            Clients.Add(client);
        }

        public void Add(Traffic other)
        {
            Ports.UnionWith(other.Ports);
            Methods.UnionWith(other.Methods);
            Clients.UnionWith(other.Clients);
        }
    }
}
