namespace EgressLab.LoadTests.Tests.TestHost;

/// <summary>Tests whose assertions rest on time (a stall, a schedule) run alone, not beside CPU-heavy bulk transfers.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitive
{
    public const string Name = "timing";
}
