using EgressLab.LoadTests.Bench;

namespace EgressLab.LoadTests.Tests.Bench;

public class PolicyDecisionBenchmarkTests
{
#if DEBUG
    private const bool OptimizedBuild = false;
#else
    private const bool OptimizedBuild = true;
#endif

    [Fact]
    public void Run_Quick_CompletesWithoutAllocatingPerDecision()
    {
        var progress = new StringWriter();

        var result = PolicyDecisionBenchmark.Run(
            PolicyDecisionBenchmark.DefaultDomains, MicroBenchmarkMode.Quick, progress, TestContext.Current.CancellationToken);

        Assert.Equal(PolicyDecisionBenchmark.Name, result.Name);
        Assert.Equal(MicroBenchmarkOptions.Quick.Iterations, result.Iterations);
        Assert.True(result.TotalOperations > 0);
        Assert.Equal(OptimizedBuild, result.Optimized);

        // Deciding on a name reuses the rule's decision and normalises on the stack.
        Assert.Equal(0, result.AllocatedBytesPerOperation);
        Assert.Equal(2, progress.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Run_CancelledToken_ThrowsOperationCanceled()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.Throws<OperationCanceledException>(
            () => PolicyDecisionBenchmark.Run(PolicyDecisionWorkload.MinDomains, MicroBenchmarkMode.Quick, TextWriter.Null, cancellation.Token));
    }
}
