using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace EgressLab.LoadTests.Bench;

/// <summary>
/// An in-process micro-benchmark harness in the manner of BenchmarkDotNet: warm-up until the code is optimised, a pilot
/// that sizes the iterations, then measured iterations summarised with BenchmarkDotNet's statistics.
/// </summary>
/// <remarks>
/// Runs on the calling thread, so the allocation count (<see cref="GC.GetAllocatedBytesForCurrentThread"/>) is exactly
/// what the operation allocated. Every phase is bounded: warm-up by time, the pilot by rounds, the measurement by
/// <see cref="MicroBenchmarkOptions.Iterations"/>; an operation slower than an iteration runs once per iteration.
/// Unlike BenchmarkDotNet there is no separate process and no subtraction of an empty loop's overhead: the batch loop
/// costs a nanosecond or so per operation, which stays in the figure.
/// </remarks>
internal static class MicroBenchmark
{
    /// <summary>Warm-up batches double until one lasts this long, so the warm-up calls the operation hundreds of times.</summary>
    private static readonly TimeSpan WarmUpBatchTime = TimeSpan.FromMilliseconds(1);

    /// <summary>The pilot reruns with a corrected size at most this many times.</summary>
    private const int MaxPilotRounds = 3;

    /// <summary>Keeps a batch size from overflowing however fast the operation is (2^40 operations is hours).</summary>
    private const long MaxOperationsPerIteration = 1L << 40;

    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    // Written with every batch's result so the JIT cannot treat the work behind it as dead.
    private static long s_sink;

    /// <summary>Warms up, sizes and measures <paramref name="operation"/>.</summary>
    /// <param name="name">What is measured, used in the result and the progress lines.</param>
    /// <param name="operation">The operation, called with batches.</param>
    /// <param name="options">The budgets; see <see cref="MicroBenchmarkOptions.For"/>.</param>
    /// <param name="codeUnderTest">The assembly whose code is measured, checked with <see cref="IsOptimized"/> along with the operation's own.</param>
    /// <param name="progress">Receives two lines: when warm-up starts, and the size of the measured iterations.</param>
    /// <param name="cancellationToken">Checked between batches and iterations.</param>
    public static MicroBenchmarkResult Run<TOperation>(
        string name,
        TOperation operation,
        MicroBenchmarkOptions options,
        Assembly codeUnderTest,
        TextWriter progress,
        CancellationToken cancellationToken)
        where TOperation : IMicroBenchmarkOperation
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(codeUnderTest);
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.WarmUp, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.IterationTime, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Iterations, 2, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Iterations, MicroBenchmarkOptions.MaxIterations, nameof(options));

        progress.WriteLine($"{name}: warming up");
        var ticksPerOperation = WarmUp(operation, options.WarmUp, cancellationToken);
        var operationsPerIteration = Pilot(operation, options.IterationTime, ticksPerOperation, cancellationToken);
        progress.WriteLine(string.Create(
            CultureInfo.InvariantCulture, $"{name}: {options.Iterations} iterations of {operationsPerIteration:N0} ops"));

        var samples = new double[options.Iterations];
        long allocated = 0;
        for (var i = 0; i < samples.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // As BenchmarkDotNet does by default: garbage left by setup or the previous iteration is collected outside
            // the timed region rather than in it.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();

            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var ticks = TimeBatch(operation, operationsPerIteration);
            allocated += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            samples[i] = ticks * NanosecondsPerTick / operationsPerIteration;
        }

        var statistics = MicroBenchmarkStatistics.Compute(samples);
        var totalOperations = operationsPerIteration * samples.Length;
        return new MicroBenchmarkResult(
            name,
            totalOperations,
            samples.Length,
            statistics.Mean,
            statistics.Median,
            statistics.StandardDeviation,
            statistics.Error,
            statistics.Min,
            statistics.Max,
            (double)allocated / totalOperations,
            IsOptimized(codeUnderTest) && IsOptimized(typeof(TOperation).Assembly));
    }

    /// <summary>
    /// Whether <paramref name="assembly"/> was compiled for the JIT optimiser: false for a Debug build, whose
    /// <see cref="DebuggableAttribute"/> disables it, so any time measured in it is not the product's.
    /// </summary>
    public static bool IsOptimized(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return assembly.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true };
    }

    /// <summary>Runs batches that double up to <see cref="WarmUpBatchTime"/> until <paramref name="budget"/> has passed.</summary>
    /// <returns>The fewest Stopwatch ticks per operation seen in a batch long enough to time well.</returns>
    private static double WarmUp<TOperation>(TOperation operation, TimeSpan budget, CancellationToken cancellationToken)
        where TOperation : IMicroBenchmarkOperation
    {
        var batchTicks = WarmUpBatchTime.TotalSeconds * Stopwatch.Frequency;
        var started = Stopwatch.GetTimestamp();
        long batch = 1;
        var fastest = double.PositiveInfinity;
        double last;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ticks = TimeBatch(operation, batch);
            last = (double)Math.Max(ticks, 1) / batch;
            if (ticks >= batchTicks / 10)
            {
                fastest = Math.Min(fastest, last);
            }

            if (ticks < batchTicks && batch < MaxOperationsPerIteration / 2)
            {
                batch *= 2;
            }
        }
        while (Stopwatch.GetElapsedTime(started) < budget);

        // A budget too short for any batch to reach a tenth of WarmUpBatchTime leaves only the last batch to go by.
        return double.IsPositiveInfinity(fastest) ? last : fastest;
    }

    /// <summary>Picks the operations per iteration that make one iteration last <paramref name="iterationTime"/>.</summary>
    /// <remarks>
    /// Sizes by the fastest time per operation seen so far. Being descheduled can only make a batch slower, so the
    /// fastest is the least disturbed; sizing by the latest instead lets one preempted round shrink the iterations to
    /// a fraction of their target.
    /// </remarks>
    private static long Pilot<TOperation>(
        TOperation operation, TimeSpan iterationTime, double fastestTicksPerOperation, CancellationToken cancellationToken)
        where TOperation : IMicroBenchmarkOperation
    {
        var targetTicks = iterationTime.TotalSeconds * Stopwatch.Frequency;
        var operations = OperationsFor(targetTicks, fastestTicksPerOperation);
        for (var round = 0; round < MaxPilotRounds; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ticks = TimeBatch(operation, operations);
            fastestTicksPerOperation = Math.Min(fastestTicksPerOperation, (double)Math.Max(ticks, 1) / operations);
            var next = OperationsFor(targetTicks, fastestTicksPerOperation);

            // Within 5% is as close as a noisy machine allows; further rounds would only chase the noise.
            var settled = Math.Abs(next - operations) <= operations / 20;
            operations = next;
            if (settled)
            {
                break;
            }
        }

        return operations;
    }

    private static long OperationsFor(double targetTicks, double ticksPerOperation) =>
        (long)Math.Clamp(Math.Round(targetTicks / ticksPerOperation), 1, MaxOperationsPerIteration);

    private static long TimeBatch<TOperation>(TOperation operation, long count)
        where TOperation : IMicroBenchmarkOperation
    {
        var started = Stopwatch.GetTimestamp();
        var result = operation.Invoke(count);
        var ticks = Stopwatch.GetTimestamp() - started;
        s_sink ^= result;
        return ticks;
    }
}
