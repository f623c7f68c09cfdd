namespace EgressLab.ProxyInstance.Tests.TestHost;

/// <summary>
/// Measures what a piece of code allocates on the calling thread. The runtime sometimes allocates there
/// once on its own (tiered JIT bookkeeping as a method is recompiled), so the work runs in up to five rounds and
/// the least any round allocated is what counts: code that allocates per call allocates in every round.
/// </summary>
internal static class Allocations
{
    private const int MaxRounds = 5;

    /// <summary>Runs <paramref name="round"/> until a round allocates nothing, at most five times.</summary>
    /// <returns>The fewest bytes a round allocated, and how many rounds ran.</returns>
    public static (long Bytes, int Rounds) Least(Action round)
    {
        ArgumentNullException.ThrowIfNull(round);
        var least = long.MaxValue;
        var rounds = 0;
        while (rounds < MaxRounds && least > 0)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            round();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
            rounds++;
        }

        return (least, rounds);
    }
}
