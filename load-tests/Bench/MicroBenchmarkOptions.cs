namespace EgressLab.LoadTests.Bench;

/// <summary>The budgets of a <see cref="MicroBenchmark"/> run: warm-up, then a pilot that sizes the iterations, then the measured iterations.</summary>
internal sealed record MicroBenchmarkOptions
{
    /// <summary>The most measured iterations allowed, which also bounds the work of the confidence interval.</summary>
    public const int MaxIterations = 1000;

    /// <summary>Options for a full run: 0.5 s of warm-up, then 15 iterations of about 100 ms.</summary>
    public static MicroBenchmarkOptions Full { get; } = new();

    /// <summary>Options for a quick run, well under a second in all: 20 ms of warm-up, then 3 iterations of about 2 ms.</summary>
    public static MicroBenchmarkOptions Quick { get; } = new()
    {
        WarmUp = TimeSpan.FromMilliseconds(20),
        IterationTime = TimeSpan.FromMilliseconds(2),
        Iterations = 3,
    };

    /// <summary>
    /// How long the operation runs before anything is measured. Tiered compilation first runs unoptimised code, and
    /// promotes a method to optimised (tier-1, with dynamic PGO) code only after it has been called 30 times and no
    /// new method has been compiled for 100 ms, so this must be long enough for both. The default is 0.5 seconds.
    /// </summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long one measured iteration should last; the pilot picks the operations per iteration to match. The default is 100 milliseconds.</summary>
    public TimeSpan IterationTime { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Measured iterations, from 2 (a standard deviation needs two) to <see cref="MaxIterations"/>. The default is 15.</summary>
    public int Iterations { get; init; } = 15;

    public static MicroBenchmarkOptions For(MicroBenchmarkMode mode) => mode switch
    {
        MicroBenchmarkMode.Full => Full,
        MicroBenchmarkMode.Quick => Quick,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Use Full or Quick."),
    };
}
