namespace EgressLab.LoadTests.Bench;

/// <summary>How long a <see cref="MicroBenchmark"/> runs; see <see cref="MicroBenchmarkOptions.For"/>.</summary>
internal enum MicroBenchmarkMode
{
    /// <summary>Budgets long enough for a figure worth reporting: about two seconds per benchmark.</summary>
    Full,

    /// <summary>Tiny budgets that prove the benchmark runs and decides correctly; its timings mean little.</summary>
    Quick,
}
