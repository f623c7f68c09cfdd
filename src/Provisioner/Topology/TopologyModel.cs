using System.Net;

namespace EgressLab.Provisioner.Topology;

/// <summary>
/// The egress topology, one model for both backends: the network-namespace lab builds it on one machine, the
/// CloudFormation renderer writes it as a template. Loaded and validated by <see cref="TopologyLoader"/>; once
/// built, every name it holds refers to something that exists in it.
/// </summary>
internal sealed record TopologyModel
{
    /// <summary>A short name for the whole topology (the lab's and the stack's label).</summary>
    public required string Name { get; init; }

    public required VpcSpec Vpc { get; init; }

    /// <summary>The Internet Gateway, or null for a VPC without one.</summary>
    public InternetGatewaySpec? InternetGateway { get; init; }

    public required IReadOnlyList<SubnetSpec> Subnets { get; init; }

    public required IReadOnlyList<RouteTableSpec> RouteTables { get; init; }

    public required IReadOnlyList<SecurityGroupSpec> SecurityGroups { get; init; }

    public IReadOnlyList<NetworkAclSpec> NetworkAcls { get; init; } = [];

    public required IReadOnlyList<InstanceSpec> Instances { get; init; }

    /// <summary>Managed NAT gateways: route targets like the NAT instance, but with no instance, security group or SSH.</summary>
    public IReadOnlyList<NatGatewaySpec> NatGateways { get; init; } = [];

    /// <summary>The lab's settings for the instance whose role is <see cref="InstanceRole.Proxy"/>.</summary>
    public ProxySpec Proxy { get; init; } = new();

    public required InternetSpec Internet { get; init; }

    /// <summary>Where the model was loaded from, for messages.</summary>
    public string Source { get; init; } = "(in memory)";

    public SubnetSpec Subnet(string name) => Subnets.Single(s => s.Name == name);

    public RouteTableSpec RouteTable(string name) => RouteTables.Single(t => t.Name == name);

    public InstanceSpec Instance(string name) => Instances.Single(i => i.Name == name);

    public InstanceSpec? FindInstance(string name) => Instances.SingleOrDefault(i => i.Name == name);

    public NatGatewaySpec? FindNatGateway(string name) => NatGateways.SingleOrDefault(g => g.Name == name);

    /// <summary>The private address a route to <paramref name="target"/> (an instance or a NAT gateway) leads to, and its subnet.</summary>
    public (IPAddress PrivateIp, string Subnet) RouteHop(string target) =>
        FindNatGateway(target) is { } gateway ? (gateway.PrivateIp, gateway.Subnet) : (Instance(target).PrivateIp, Instance(target).Subnet);

    /// <summary>Every private address the Internet Gateway maps 1:1 to an Elastic IP: instances' and NAT gateways'.</summary>
    public IEnumerable<(IPAddress PrivateIp, IPAddress ElasticIp)> ElasticIpMappings() =>
        Instances.Where(i => i.ElasticIp is not null).Select(i => (i.PrivateIp, i.ElasticIp!))
            .Concat(NatGateways.Select(g => (g.PrivateIp, g.ElasticIp)));

    /// <summary>Replaces one route table (the walk-through's route edits) and returns the new model.</summary>
    public TopologyModel WithRouteTable(RouteTableSpec table) =>
        this with { RouteTables = [.. RouteTables.Select(t => t.Name == table.Name ? table : t)] };

    /// <summary>Replaces one instance (the source/destination check switch) and returns the new model.</summary>
    public TopologyModel WithInstance(InstanceSpec instance) =>
        this with { Instances = [.. Instances.Select(i => i.Name == instance.Name ? instance : i)] };
}

internal sealed record VpcSpec(IPNetwork Cidr)
{
    /// <summary>The VPC resolver: the base of the VPC range plus two, as on AWS.</summary>
    public IPAddress Resolver => Ipv4.FromUInt32(Ipv4.First(Cidr) + 2);
}

internal sealed record InternetGatewaySpec(string Name);

/// <param name="NetworkAcl">The subnet's network ACL; null means the default ACL, which allows everything.</param>
internal sealed record SubnetSpec(string Name, IPNetwork Cidr, string RouteTable, string? NetworkAcl)
{
    /// <summary>The VPC router's address in the subnet: the base plus one, as on AWS.</summary>
    public IPAddress Gateway => Ipv4.FromUInt32(Ipv4.First(Cidr) + 1);
}

/// <summary>A route table. Every table also has the implicit local route for the VPC range.</summary>
internal sealed record RouteTableSpec(string Name, IReadOnlyList<RouteSpec> Routes);

/// <param name="Target">The Internet Gateway's name, an instance's name or a NAT gateway's name.</param>
internal sealed record RouteSpec(IPNetwork Destination, string Target);

internal enum TrafficProtocol
{
    All,
    Tcp,
    Udp,
    Icmp,
}

/// <summary>An inclusive port range; <see cref="All"/> for rules without ports.</summary>
internal readonly record struct PortRange(int From, int To)
{
    public static readonly PortRange All = new(0, 65535);

    public bool IsAll => From == 0 && To == 65535;

    public override string ToString() => IsAll ? "all" : From == To ? From.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{From}-{To}";
}

/// <summary>A stateful security group: replies to allowed traffic are always allowed.</summary>
/// <param name="Egress">Outbound rules; null means the AWS default, everything allowed.</param>
internal sealed record SecurityGroupSpec(string Name, string Description, IReadOnlyList<SecurityGroupRule> Ingress, IReadOnlyList<SecurityGroupRule>? Egress);

/// <param name="Peer">The source for ingress rules, the destination for egress rules.</param>
internal sealed record SecurityGroupRule(TrafficProtocol Protocol, PortRange Ports, IPNetwork Peer, string? Description);

internal enum AclAction
{
    Allow,
    Deny,
}

/// <summary>A stateless network ACL on a subnet's edge: rules in rule-number order, first match decides, else deny.</summary>
internal sealed record NetworkAclSpec(string Name, IReadOnlyList<NetworkAclRule> Inbound, IReadOnlyList<NetworkAclRule> Outbound);

/// <param name="Peer">The source for inbound rules, the destination for outbound rules.</param>
internal sealed record NetworkAclRule(int Number, TrafficProtocol Protocol, PortRange Ports, IPNetwork Peer, AclAction Action);

internal enum InstanceRole
{
    /// <summary>A plain host: a client of whichever egress path its subnet's route table gives it.</summary>
    Client,

    /// <summary>The NAT instance: ip_forward and MASQUERADE, set up by the same commands its AWS user-data runs.</summary>
    Nat,

    /// <summary>The proxy instance, running the product's proxy on <see cref="ProxySpec.Port"/>.</summary>
    Proxy,
}

internal sealed record InstanceSpec
{
    public required string Name { get; init; }

    public InstanceRole Role { get; init; } = InstanceRole.Client;

    public required string Subnet { get; init; }

    public required IPAddress PrivateIp { get; init; }

    /// <summary>The Elastic IP the Internet Gateway maps 1:1 to <see cref="PrivateIp"/>; null for none.</summary>
    public IPAddress? ElasticIp { get; init; }

    public IReadOnlyList<string> SecurityGroups { get; init; } = [];

    /// <summary>When on (the AWS default), the instance's interface drops traffic not addressed to or from it. The default is true.</summary>
    public bool SourceDestCheck { get; init; } = true;

    /// <summary>How a NAT instance is replaced when it dies. The default is <see cref="NatFailover.None"/>: one instance, replaced by hand.</summary>
    public NatFailover Failover { get; init; } = NatFailover.None;
}

/// <summary>What replaces a failed NAT instance (topology field <c>failover</c>, NAT instances only).</summary>
internal enum NatFailover
{
    /// <summary><c>none</c>: a single instance; when it dies, private egress stays down until someone acts.</summary>
    None,

    /// <summary>
    /// <c>asg-eni</c>, as fck-nat does: an Auto Scaling group of one replaces a dead instance, and the replacement attaches
    /// a fixed network interface at boot. The private route points at that interface, so it never changes; the NAT's
    /// connection tracking dies with the old instance.
    /// </summary>
    AsgEni,
}

/// <summary>
/// A managed NAT gateway (public connectivity): it sits in a public subnet with an Elastic IP and translates the
/// addresses and ports of whatever a route table sends it. Unlike the NAT instance it has no security group, no
/// source/destination check and no SSH; AWS documents its limits: source ports 1024-65535 on its address, 55,000
/// simultaneous connections to one destination, idle TCP connections dropped after 350 seconds.
/// </summary>
/// <param name="PrivateIp">Its address in the subnet (CloudFormation's PrivateIpAddress; AWS picks one when absent, the lab needs it).</param>
internal sealed record NatGatewaySpec(string Name, string Subnet, IPAddress PrivateIp, IPAddress ElasticIp);

internal sealed record ProxySpec
{
    /// <summary>The proxy's listening port. The default is 3128.</summary>
    public int Port { get; init; } = 3128;

    /// <summary>Names the proxy lets the private subnet reach (CONNECT and plain HTTP, ports 80 and 443).</summary>
    public IReadOnlyList<string> AllowedDomains { get; init; } = [];
}

internal enum InternetService
{
    /// <summary>Answers every request with the source address and port it sees, <c>203.0.113.10:40312</c>.</summary>
    CheckIp,

    /// <summary>Static objects of fixed sizes over HTTP and HTTPS.</summary>
    Web,
}

internal sealed record InternetSpec(IPNetwork Cidr, IPNetwork ElasticIpRange, IReadOnlyList<InternetHostSpec> Hosts);

internal sealed record InternetHostSpec(string Name, IPAddress Address, InternetService Service, IReadOnlyList<string> Names);
