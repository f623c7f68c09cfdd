namespace EgressLab.Provisioner.Topology;

/// <summary>The outcome of loading a topology.</summary>
/// <param name="Model">The model; null whenever <paramref name="Errors"/> is not empty, so a half-valid topology is never used.</param>
/// <param name="Errors">Every problem found, in file order.</param>
internal sealed record TopologyLoadResult(TopologyModel? Model, IReadOnlyList<TopologyError> Errors)
{
    public bool Succeeded => Model is not null && Errors.Count == 0;
}
