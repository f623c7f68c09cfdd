namespace EgressLab.LoadTests.Cost;

/// <summary>
/// What a monthly cost is computed for besides the prices: the traffic, and the instances each design runs. The
/// defaults follow the CloudFormation template's parameters where it has one.
/// </summary>
/// <param name="Traffic">What crosses the path in a month, both directions, all of it priced as data transfer out to
/// the internet (an upper bound: data coming in from the internet is free).</param>
internal sealed record CostAssumptions(TrafficVolume Traffic)
{
    /// <summary>The NAT instance's type. The default is t3.micro, the template's NatInstanceType.</summary>
    public string NatInstanceType { get; init; } = "t3.micro";

    /// <summary>NAT instances kept running: 2 for an active and a standby (a route flip on failure). The default is 1,
    /// as the template has.</summary>
    public int NatInstances { get; init; } = 1;

    /// <summary>Each proxy's type. The default is t3.small, the template's ProxyInstanceType.</summary>
    public string ProxyInstanceType { get; init; } = "t3.small";

    /// <summary>Proxies in the fleet; above 1 they sit behind a Network Load Balancer, as the template's ProxyFleetSize
    /// does. The default is 2, the smallest fleet that survives losing a proxy.</summary>
    public int ProxyInstances { get; init; } = 2;

    /// <summary>Instances that send traffic out: on the L3 path each needs its own public IPv4 address. The default is
    /// 2, the default topology's private hosts.</summary>
    public int WorkloadInstances { get; init; } = 2;
}
