using System.Text.RegularExpressions;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// The allowlist a deploy gives the proxy instances, checked by the proxy's own <c>--check-config</c> before the stack
/// is touched: a pattern the proxy refuses (a wildcard over a public suffix such as <c>*.s3.amazonaws.com</c>) would
/// otherwise be found only when the instances boot and their proxies refuse to start.
/// </summary>
internal static partial class ProxyAllowlistCheck
{
    /// <summary>Every problem the proxy finds with <paramref name="domains"/> (comma-separated), each naming the domain; empty when it accepts them.</summary>
    public static IReadOnlyList<string> Problems(string domains)
    {
        ArgumentNullException.ThrowIfNull(domains);
        var list = domains.Split(',');
        if (ProxyConfigCheck.Refusal(ProxyInstanceConfig.Build(3128, "127.0.0.1", "-", ["10.0.0.0/8"], list), "the allowlist") is not { } report)
        {
            return [];
        }

        // "  $.Proxy.Policy.Rules[0].Domains[2]: '*.s3.amazonaws.com' would allow ..." names the domain by its index.
        var problems = new List<string>();
        foreach (Match match in DomainProblem().Matches(report))
        {
            var index = int.Parse(match.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture);
            var domain = index < list.Length ? list[index] : "?";
            problems.Add($"--allowed-domains: '{domain}' is refused by the proxy: {match.Groups["message"].Value.Trim()}");
        }

        return problems.Count > 0 ? problems : [$"--allowed-domains '{domains}' is refused by the proxy:\n{report}"];
    }

    [GeneratedRegex(@"\$\.Proxy\.Policy\.Rules\[0\]\.Domains\[(?<index>\d+)\]: (?<message>[^\n]*)")]
    private static partial Regex DomainProblem();
}
