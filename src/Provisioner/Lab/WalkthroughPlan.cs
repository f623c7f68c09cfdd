using System.Net;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// The hosts and names of the NAT-instance walk-through, found in a topology: the NAT instance, the private
/// hosts and their route table, the public host, the proxy, checkip and an allowed and a denied web name.
/// `lab verify` replays the walk-through with it and the load tests' `compare` picks its egress paths from it.
/// </summary>
internal sealed record WalkthroughPlan
{
    public string? Problem { get; init; }
    public InstanceSpec Nat { get; init; } = null!;
    public List<InstanceSpec> PrivateHosts { get; init; } = [];
    public RouteTableSpec PrivateTable { get; init; } = null!;
    public InstanceSpec? PublicHost { get; init; }
    public InstanceSpec? Proxy { get; init; }
    public int ProxyPort { get; init; }
    public string CheckIpName { get; init; } = "";
    public IPAddress CheckIpAddress { get; init; } = IPAddress.None;
    public string AllowedName { get; init; } = "";
    public string DeniedName { get; init; } = "";

    /// <summary>A NAT gateway some client's route table sends everything to, or null when the topology has none.</summary>
    public NatGatewaySpec? NatGateway { get; init; }

    /// <summary>The first client instance that leaves through <see cref="NatGateway"/>.</summary>
    public InstanceSpec? NatGatewayHost { get; init; }

    public static WalkthroughPlan From(TopologyModel model)
    {
        var nat = model.Instances.FirstOrDefault(i => i.Role == InstanceRole.Nat && i.ElasticIp is not null);
        if (nat is null)
        {
            return new WalkthroughPlan { Problem = "it needs an instance with role nat and an Elastic IP" };
        }

        var privateHosts = model.Instances.Where(i => i.Role == InstanceRole.Client && i.ElasticIp is null && i.Subnet != nat.Subnet).ToList();
        if (privateHosts.Count == 0)
        {
            return new WalkthroughPlan { Problem = "it needs a client instance without an Elastic IP outside the NAT instance's subnet" };
        }

        var checkip = model.Internet.Hosts.First(h => h.Service == InternetService.CheckIp);
        var names = model.Internet.Hosts.Where(h => h.Service == InternetService.Web).SelectMany(h => h.Names).ToList();
        var allowed = names.FirstOrDefault(n => model.Proxy.AllowedDomains.Contains(n, StringComparer.OrdinalIgnoreCase));
        var denied = names.FirstOrDefault(n => !model.Proxy.AllowedDomains.Contains(n, StringComparer.OrdinalIgnoreCase));
        var proxy = model.Instances.FirstOrDefault(i => i.Role == InstanceRole.Proxy);
        if (proxy is not null && (allowed is null || denied is null))
        {
            return new WalkthroughPlan { Problem = "the proxy check needs a web host name in proxy.allowedDomains and one not in it" };
        }

        var natGatewayHost = model.Instances.FirstOrDefault(i => i.Role == InstanceRole.Client && i.ElasticIp is null && NatGatewayOf(model, i) is not null);
        return new WalkthroughPlan
        {
            NatGateway = natGatewayHost is null ? null : NatGatewayOf(model, natGatewayHost),
            NatGatewayHost = natGatewayHost,
            Nat = nat,
            PrivateHosts = privateHosts.Where(h => h.Subnet == privateHosts[0].Subnet).ToList(),
            PrivateTable = model.RouteTable(model.Subnet(privateHosts[0].Subnet).RouteTable),
            PublicHost = model.Instances.FirstOrDefault(i => i.Role == InstanceRole.Client && i.ElasticIp is not null),
            Proxy = proxy,
            ProxyPort = model.Proxy.Port,
            CheckIpName = checkip.Names[0],
            CheckIpAddress = checkip.Address,
            AllowedName = allowed ?? "",
            DeniedName = denied ?? "",
        };
    }

    /// <summary>The NAT gateway the host's subnet sends 0.0.0.0/0 to, if that is where its default route goes.</summary>
    private static NatGatewaySpec? NatGatewayOf(TopologyModel model, InstanceSpec host) =>
        model.RouteTable(model.Subnet(host.Subnet).RouteTable).Routes.FirstOrDefault(r => r.Destination.PrefixLength == 0) is { } route
            ? model.FindNatGateway(route.Target)
            : null;
}
