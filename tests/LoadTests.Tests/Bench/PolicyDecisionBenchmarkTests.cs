using EgressLab.LoadTests.Bench;
using EgressLab.LoadTests.Tests.TestHost;

namespace EgressLab.LoadTests.Tests.Bench;

/// <summary>A real, short BenchmarkDotNet run of the policy decision benchmark, read back through its JSON report into the bench table.</summary>
/// <remarks>Alone: in-process, BenchmarkDotNet counts the allocations of every thread, other tests' included.</remarks>
[Collection(TimingSensitive.Name)]
public sealed class PolicyDecisionBenchmarkTests : IDisposable
{
#if DEBUG
    private const bool OptimizedBuild = false;
#else
    private const bool OptimizedBuild = true;
#endif

    private readonly string _directory = Directory.CreateTempSubdirectory("egress-bdn-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Run_Quick_ReadsBenchmarkDotNetsJsonIntoTheBenchTable()
    {
        var progress = new StringWriter();

        var result = PolicyDecisionRun.Run(quick: true, _directory, progress, TestContext.Current.CancellationToken);

        Assert.Equal(PolicyDecisionRun.Name, result.Name);
        Assert.Equal(3, result.Iterations);
        Assert.True(result.TotalOperations > 0);
        Assert.Equal(OptimizedBuild, result.Optimized);
        Assert.InRange(result.MeanNanoseconds, 1, 1_000_000);
        Assert.InRange(result.MinNanoseconds, 0, result.MaxNanoseconds);
        Assert.StartsWith(_directory, result.JsonReport, StringComparison.Ordinal);
        Assert.EndsWith(BenchmarkDotNetReport.FileSuffix, result.JsonReport, StringComparison.Ordinal);

        // Deciding on a name reuses the rule's decision and normalises on the stack, so the figure is 0 B, but in-process
        // BenchmarkDotNet counts every thread's allocations, and a test host's background threads (timers, the GC's
        // finaliser, a server still closing) can add a few bytes per million operations, which round up to 1 B. The
        // decision's own allocations are counted exactly, per thread, by CompiledPolicyTests in the proxy's tests; here
        // the figure must only be read, and be near zero.
        Assert.InRange(result.AllocatedBytesPerOperation, 0, 1);
        Assert.Equal(2, progress.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Length);

        var row = Assert.Single(BenchTable.Rows([], null, result, new Dictionary<string, string>()));
        Assert.Equal(BenchFigures.PolicyDecision, row.Figure);
        Assert.Equal(result.MeanNanoseconds, row.Proxy);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{result.AllocatedBytesPerOperation:0.#} B allocated per decision"), row.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_CancelledToken_ThrowsOperationCanceled()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.Throws<OperationCanceledException>(() => PolicyDecisionRun.Run(quick: true, _directory, TextWriter.Null, cancellation.Token));
        Assert.Empty(Directory.GetFileSystemEntries(_directory));
    }
}
