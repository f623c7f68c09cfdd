namespace EgressLab.Provisioner.Topology;

/// <summary>The syntax a topology is written in; both map to the same fields.</summary>
internal enum TopologyFormat
{
    Yaml,
    Json,
}
