namespace EgressLab.LoadTests.Bench;

/// <summary>
/// What BenchmarkDotNet measured for one benchmark, as read from its JSON report by <see cref="BenchmarkDotNetReport"/>.
/// Times are per operation, in nanoseconds, over the measured iterations.
/// </summary>
/// <param name="Name">What was measured, e.g. "policy decision".</param>
/// <param name="TotalOperations">Operations in the run BenchmarkDotNet's memory diagnoser measured, which the allocation is divided by.</param>
/// <param name="Iterations">Measured iterations (BenchmarkDotNet's N, after removing outliers); each gives one time per operation.</param>
/// <param name="ErrorNanoseconds">Half the width of the 99.9% confidence interval of the mean: BenchmarkDotNet's "Error".</param>
/// <param name="AllocatedBytesPerOperation">Bytes allocated per operation: BenchmarkDotNet's "Allocated".</param>
/// <param name="Optimized">
/// Whether the code under test and the benchmark were built with the JIT optimiser on (see <see cref="OptimizedBuild"/>).
/// A figure from a Debug build says nothing about the product; callers should not report it as one.
/// </param>
/// <param name="JsonReport">The BenchmarkDotNet JSON report the figures were read from.</param>
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
    bool Optimized,
    string? JsonReport = null);
