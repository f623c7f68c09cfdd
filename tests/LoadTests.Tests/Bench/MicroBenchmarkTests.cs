using System.Reflection;
using EgressLab.LoadTests.Bench;

namespace EgressLab.LoadTests.Tests.Bench;

// Timing is never asserted on: a shared machine makes it anything. Structure and allocation counts are deterministic.
public class MicroBenchmarkTests
{
#if DEBUG
    private const bool OptimizedBuild = false;
#else
    private const bool OptimizedBuild = true;
#endif

    private static readonly Assembly CodeUnderTest = typeof(MicroBenchmark).Assembly;

    [Fact]
    public void Run_QuickNonAllocatingOperation_ReportsEveryIterationAndNoAllocation()
    {
        var progress = new StringWriter();

        var result = MicroBenchmark.Run("sum", new SumOperation(), MicroBenchmarkOptions.Quick, CodeUnderTest, progress, TestContext.Current.CancellationToken);

        Assert.Equal("sum", result.Name);
        Assert.Equal(MicroBenchmarkOptions.Quick.Iterations, result.Iterations);
        Assert.True(result.TotalOperations >= result.Iterations, $"{result.TotalOperations} operations");
        Assert.Equal(0, result.TotalOperations % result.Iterations);
        Assert.Equal(0, result.AllocatedBytesPerOperation);
        Assert.True(result.MinNanoseconds <= result.MedianNanoseconds && result.MedianNanoseconds <= result.MaxNanoseconds, result.ToString());
        Assert.True(result.MinNanoseconds <= result.MeanNanoseconds && result.MeanNanoseconds <= result.MaxNanoseconds, result.ToString());
        Assert.True(result.StdDevNanoseconds >= 0 && result.ErrorNanoseconds >= 0, result.ToString());
        Assert.Equal(OptimizedBuild, result.Optimized);
    }

    [Fact]
    public void Run_QuickAllocatingOperation_ReportsBytesPerOperation()
    {
        var result = MicroBenchmark.Run(
            "allocate", new AllocatingOperation(), MicroBenchmarkOptions.Quick, CodeUnderTest, TextWriter.Null, TestContext.Current.CancellationToken);

        // A 16-byte array is 40 bytes on a 64-bit runtime (header, method table, length) and 28 on a 32-bit one.
        Assert.Equal(IntPtr.Size == 8 ? 40 : 28, result.AllocatedBytesPerOperation, 6);
    }

    [Fact]
    public void Run_Quick_WritesTwoProgressLines()
    {
        var progress = new StringWriter();

        var result = MicroBenchmark.Run("sum", new SumOperation(), MicroBenchmarkOptions.Quick, CodeUnderTest, progress, TestContext.Current.CancellationToken);

        var lines = progress.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal("sum: warming up", lines[0]);
        Assert.Equal($"sum: {result.Iterations} iterations of {result.TotalOperations / result.Iterations:N0} ops", lines[1]);
    }

    [Fact]
    public void Run_CancelledToken_ThrowsOperationCanceled()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.Throws<OperationCanceledException>(
            () => MicroBenchmark.Run("sum", new SumOperation(), MicroBenchmarkOptions.Quick, CodeUnderTest, TextWriter.Null, cancellation.Token));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(MicroBenchmarkOptions.MaxIterations + 1)]
    public void Run_IterationsOutOfRange_Throws(int iterations)
    {
        var options = MicroBenchmarkOptions.Quick with { Iterations = iterations };

        Assert.Throws<ArgumentOutOfRangeException>(
            () => MicroBenchmark.Run("sum", new SumOperation(), options, CodeUnderTest, TextWriter.Null, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void IsOptimized_ThisBuild_MatchesItsConfiguration()
    {
        Assert.Equal(OptimizedBuild, MicroBenchmark.IsOptimized(CodeUnderTest));
        Assert.Equal(OptimizedBuild, MicroBenchmark.IsOptimized(typeof(MicroBenchmarkTests).Assembly));
    }

    [Fact]
    public void For_EachMode_GivesItsOptions()
    {
        Assert.Same(MicroBenchmarkOptions.Full, MicroBenchmarkOptions.For(MicroBenchmarkMode.Full));
        Assert.Same(MicroBenchmarkOptions.Quick, MicroBenchmarkOptions.For(MicroBenchmarkMode.Quick));
        Assert.Equal(15, MicroBenchmarkOptions.Full.Iterations);
        Assert.Equal(TimeSpan.FromMilliseconds(100), MicroBenchmarkOptions.Full.IterationTime);
    }

    private sealed class SumOperation : IMicroBenchmarkOperation
    {
        public long Invoke(long count)
        {
            long sum = 0;
            for (long i = 0; i < count; i++)
            {
                sum += i ^ (sum >> 3);
            }

            return sum;
        }
    }

    private sealed class AllocatingOperation : IMicroBenchmarkOperation
    {
        // Kept in a field so the array escapes: an optimising JIT may put an array that never escapes on the stack.
        private byte[] _last = [];

        public long Invoke(long count)
        {
            long sum = 0;
            for (long i = 0; i < count; i++)
            {
                _last = new byte[16];
                sum += _last.Length;
            }

            return sum;
        }
    }
}
