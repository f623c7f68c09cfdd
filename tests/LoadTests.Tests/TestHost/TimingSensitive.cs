namespace EgressLab.LoadTests.Tests.TestHost;

/// <summary>
/// Tests whose assertions rest on time (a stall, a schedule) or on the whole process's allocations (BenchmarkDotNet's
/// memory diagnoser) run alone, not beside CPU-heavy bulk transfers or other tests' allocations.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitive
{
    public const string Name = "timing";
}
