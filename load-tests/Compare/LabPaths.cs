using System.Globalization;
using EgressLab.LoadTests.Results;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Topology;

namespace EgressLab.LoadTests.Compare;

/// <summary>One egress path as the lab runs it: where the load runs, and the environment that sends it out.</summary>
/// <param name="Namespace">The client host's network namespace.</param>
/// <param name="Variables">Set for the load generator: the lab CA, and for L7 http_proxy and https_proxy.</param>
/// <param name="Proxy">For an L7 path: which proxy must sit on the proxy instance (null for the egress proxy).</param>
internal sealed record LabPath(EgressPath Path, string Namespace, IReadOnlyList<string> Variables, bool ThroughProxy = false, IncumbentProxy? Proxy = null);

/// <summary>
/// The lab's ways out, in the walk-through's end state: L3 from the public host straight through the Internet
/// Gateway, L4 from a private host through the NAT instance, L4 from a host of the NAT gateway's subnet through the
/// NAT gateway (when the topology has one), L7 from the first private host through the proxy instance (which itself
/// leaves through the NAT instance).
/// </summary>
internal static class LabPaths
{
    public static IReadOnlyList<LabPath> From(LabEnvironment environment, TopologyModel model, WalkthroughPlan plan, IReadOnlyList<IncumbentProxy> incumbents)
    {
        var caOnly = environment.ClientVariables;
        var privateHost = plan.PrivateHosts[0];
        var paths = new List<LabPath>();
        if (plan.PublicHost is { } publicHost)
        {
            paths.Add(new LabPath(
                new EgressPath("l3", "L3", "Internet Gateway (1:1 NAT)", publicHost.Name, "", NewTcpConnection: false, ApplicationAllowlist: false),
                environment.Namespace(publicHost), caOnly));
        }

        paths.Add(new LabPath(
            new EgressPath("l4", "L4", "NAT instance (address and port translation)", privateHost.Name, "", NewTcpConnection: false, ApplicationAllowlist: false),
            environment.Namespace(privateHost), caOnly));
        if (plan.NatGatewayHost is { } natGatewayHost)
        {
            paths.Add(new LabPath(
                new EgressPath("l4-natgw", "L4", "NAT gateway (managed address and port translation)", natGatewayHost.Name, "", NewTcpConnection: false, ApplicationAllowlist: false),
                environment.Namespace(natGatewayHost), caOnly));
        }

        if (plan.Proxy is { } proxy)
        {
            var url = string.Create(CultureInfo.InvariantCulture, $"http://{proxy.PrivateIp}:{model.Proxy.Port}");
            string[] variables = [.. caOnly, $"http_proxy={url}", $"https_proxy={url}"];
            paths.Add(new LabPath(
                new EgressPath("l7", "L7", "egress proxy (CONNECT and absolute-form HTTP)", privateHost.Name, "", NewTcpConnection: true, ApplicationAllowlist: true),
                environment.Namespace(privateHost), variables, ThroughProxy: true));
            foreach (var incumbent in incumbents)
            {
                paths.Add(new LabPath(
                    new EgressPath(incumbent.PathId, "L7", incumbent.Title, privateHost.Name, "", NewTcpConnection: true, ApplicationAllowlist: true),
                    environment.Namespace(privateHost), variables, ThroughProxy: true, incumbent));
            }
        }

        return paths;
    }
}
