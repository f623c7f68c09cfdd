namespace EgressLab.Provisioner.Topology;

/// <summary>The topologies that ship next to the binary (the project file copies <c>deploy/topologies/*.yaml</c>).</summary>
internal static class DefaultTopology
{
    /// <summary>The seed topology, <c>default.yaml</c>.</summary>
    public static string Path { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "topologies", "default.yaml");

    /// <summary>The seed topology with a NAT gateway beside the NAT instance, <c>nat-gateway.yaml</c>: what <c>compare</c> builds.</summary>
    public static string NatGatewayPath { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "topologies", "nat-gateway.yaml");
}
