using System.Net;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// How the model maps onto namespaces and links. Each subnet is a bridge in the router namespace (the VPC
/// router owns the subnet's .1), each instance a namespace whose eth0 is a port on its subnet's bridge, and
/// the router reaches the Internet Gateway, which reaches the "internet", over point-to-point links.
/// </summary>
internal sealed class LabLayout(TopologyModel model)
{
    public const string InstanceInterface = "eth0";
    public const string RouterUplink = "to-igw";
    public const string GatewayVpcSide = "to-vpc";
    public const string GatewayInternetSide = "to-inet";
    public const string InternetUplink = "to-igw";
    public const int FirstRouteTableId = 100;

    // Link networks: link-local between the router and the IGW, TEST-NET-1 (RFC 5737) between the IGW and the internet.
    public static readonly IPAddress RouterUplinkAddress = IPAddress.Parse("169.254.255.1");
    public static readonly IPAddress GatewayVpcAddress = IPAddress.Parse("169.254.255.2");
    public static readonly IPAddress GatewayInternetAddress = IPAddress.Parse("192.0.2.1");
    public static readonly IPAddress InternetUplinkAddress = IPAddress.Parse("192.0.2.2");
    public const int LinkPrefix = 30;

    public TopologyModel Model { get; } = model;

    public string Bridge(SubnetSpec subnet) => $"br{Index(Model.Subnets, subnet.Name, s => s.Name)}";

    /// <summary>The router-side end of an instance's link, a port on its subnet's bridge.</summary>
    public string RouterPort(InstanceSpec instance) => $"vh{Index(Model.Instances, instance.Name, i => i.Name)}";

    public int RouteTableId(RouteTableSpec table) => FirstRouteTableId + Index(Model.RouteTables, table.Name, t => t.Name);

    private static int Index<T>(IReadOnlyList<T> items, string name, Func<T, string> key)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (key(items[i]) == name)
            {
                return i;
            }
        }

        throw new ArgumentException($"'{name}' is not in the topology", nameof(name));
    }
}
