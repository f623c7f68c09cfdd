namespace EgressLab.LoadTests.Bench;

/// <summary>What a <see cref="MicroBenchmark"/> measured. Times are per operation, in nanoseconds, over the measured iterations.</summary>
/// <param name="Name">What was measured, e.g. "policy decision".</param>
/// <param name="TotalOperations">Operations in the measured iterations, warm-up and pilot left out.</param>
/// <param name="Iterations">Measured iterations; each gives one time per operation.</param>
/// <param name="ErrorNanoseconds">Half the width of the 99.9% confidence interval of the mean, as BenchmarkDotNet's "Error".</param>
/// <param name="AllocatedBytesPerOperation">Bytes allocated on the measuring thread, divided by <paramref name="TotalOperations"/>.</param>
/// <param name="Optimized">
/// Whether the code under test and the benchmark were built with the JIT optimiser on (see
/// <see cref="MicroBenchmark.IsOptimized"/>). A figure from a Debug build says nothing about the product; callers should
/// not report it as one.
/// </param>
internal sealed record MicroBenchmarkResult(
    string Name,
    long TotalOperations,
    int Iterations,
    double MeanNanoseconds,
    double MedianNanoseconds,
    double StdDevNanoseconds,
    double ErrorNanoseconds,
    double MinNanoseconds,
    double MaxNanoseconds,
    double AllocatedBytesPerOperation,
    bool Optimized);
