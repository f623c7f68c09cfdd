namespace EgressLab.ProxyInstance.Egress;

/// <summary>What kind of destination an address is, as far as the SSRF guard cares.</summary>
internal enum AddressClass
{
    /// <summary>Globally reachable, including the documentation ranges the network lab uses as its internet.</summary>
    Public,

    /// <summary>127.0.0.0/8 and ::1.</summary>
    Loopback,

    /// <summary>RFC 1918 (10/8, 172.16/12, 192.168/16) and the deprecated IPv6 site-local fec0::/10.</summary>
    Private,

    /// <summary>169.254.0.0/16 and fe80::/10.</summary>
    LinkLocal,

    /// <summary>100.64.0.0/10, RFC 6598 shared address space.</summary>
    CarrierGradeNat,

    /// <summary>0.0.0.0 and ::, which most stacks dial as "this host".</summary>
    Unspecified,

    /// <summary>224.0.0.0/4 and ff00::/8.</summary>
    Multicast,

    /// <summary>255.255.255.255.</summary>
    Broadcast,

    /// <summary>fc00::/7, RFC 4193.</summary>
    UniqueLocal,

    /// <summary>
    /// Not routable on the internet: 0.0.0.0/8 (bar 0.0.0.0), 240.0.0.0/4 (bar the broadcast), 192.0.0.0/24,
    /// 198.18.0.0/15 and 2001:2::/48 (benchmarking), IPv4-compatible and IPv4-translated IPv6 forms, and IPv6
    /// outside 2000::/3 that has no other meaning.
    /// </summary>
    Reserved,

    /// <summary>Cloud instance metadata endpoints: 169.254.169.254, 169.254.170.2 (ECS), fd00:ec2::254 and fd00:ec2::23.</summary>
    Metadata,

    /// <summary>One of the proxy's own interface addresses; only <see cref="DestinationGuard"/> reports this.</summary>
    ProxyOwn,
}
