using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Cost;

/// <summary>The four ways out of a private subnet that are priced, whatever proxy software a path runs.</summary>
internal enum EgressDesign
{
    /// <summary>L3: each instance has its own public IPv4 address and leaves through the Internet Gateway.</summary>
    InternetGateway,

    /// <summary>L4: a NAT instance (address and port translation) in the public subnet.</summary>
    NatInstance,

    /// <summary>L4: the managed NAT gateway.</summary>
    NatGateway,

    /// <summary>L7: a proxy fleet behind a Network Load Balancer, itself leaving through the NAT instance.</summary>
    ProxyFleet,
}

internal static class EgressDesigns
{
    public static readonly IReadOnlyList<EgressDesign> All = [EgressDesign.InternetGateway, EgressDesign.NatInstance, EgressDesign.NatGateway, EgressDesign.ProxyFleet];

    /// <summary>The path id that names a design in <c>compare</c>'s results.</summary>
    public static string PathId(EgressDesign design) => design switch
    {
        EgressDesign.InternetGateway => "l3",
        EgressDesign.NatInstance => "l4",
        EgressDesign.NatGateway => "l4-natgw",
        _ => "l7",
    };

    public static string Title(EgressDesign design) => design switch
    {
        EgressDesign.InternetGateway => "Internet Gateway, a public address per instance",
        EgressDesign.NatInstance => "NAT instance",
        EgressDesign.NatGateway => "NAT gateway",
        _ => "proxy fleet behind an NLB",
    };

    /// <summary>The design a measured path is an instance of: by its id, and any other L7 path (squid, tinyproxy)
    /// is a proxy fleet too. Null for a path no design describes.</summary>
    public static EgressDesign? Of(EgressPath path) => path.Id switch
    {
        "l3" => EgressDesign.InternetGateway,
        "l4" => EgressDesign.NatInstance,
        "l4-natgw" => EgressDesign.NatGateway,
        _ when string.Equals(path.Layer, "L7", StringComparison.OrdinalIgnoreCase) => EgressDesign.ProxyFleet,
        _ => null,
    };
}
