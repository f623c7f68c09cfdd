namespace EgressLab.Provisioner.Topology;

/// <summary>The seed topology that ships next to the binary (the project file copies <c>deploy/topologies/default.yaml</c>).</summary>
internal static class DefaultTopology
{
    public static string Path { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "topologies", "default.yaml");
}
