using EgressLab.LoadTests.Load;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Tests.TestHost;

namespace EgressLab.LoadTests.Tests.Load;

public class ClosedModelRunnerTests
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task RunAsync_ThreeUsers_CorrectedEqualsUncorrectedAndWarmUpLeftOut()
    {
        using var operation = new FakeOperation(TimeSpan.FromMilliseconds(20));
        var plan = new LoadPlan
        {
            Model = LoadModel.Closed,
            Users = 3,
            WarmUp = TimeSpan.FromMilliseconds(300),
            Duration = TimeSpan.FromMilliseconds(600),
            Grace = TimeSpan.FromSeconds(5),
        };
        var runner = LoadRunner.Create(operation, plan);

        await runner.RunAsync(TestContext.Current.CancellationToken).WaitAsync(RunLimit, TestContext.Current.CancellationToken);
        var result = runner.Recorder.ToResult("fake");

        Assert.Equal(LoadModel.Closed, result.Model);
        Assert.Null(result.OfferedRate);
        Assert.Equal(3, result.Concurrency);
        Assert.True(result.Requests > 0 && result.Requests < operation.Calls, $"{result.Requests} measured of {operation.Calls} made");
        Assert.Equal(result.Corrected, result.Uncorrected);
        Assert.Empty(result.Errors);
        Assert.Equal(0, runner.InFlight);

        // Three users of 20 ms requests make at most 150 requests/s.
        Assert.InRange(result.AchievedRate, 1, 160);
    }

    [Fact]
    public async Task RunAsync_UsersStuckAfterWindow_CancelledAfterGraceAsTimeouts()
    {
        using var operation = new FakeOperation(Timeout.InfiniteTimeSpan);
        var plan = new LoadPlan
        {
            Model = LoadModel.Closed,
            Users = 2,
            WarmUp = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(300),
            Grace = TimeSpan.FromMilliseconds(200),
        };
        var runner = LoadRunner.Create(operation, plan);

        await runner.RunAsync(TestContext.Current.CancellationToken).WaitAsync(RunLimit, TestContext.Current.CancellationToken);
        var result = runner.Recorder.ToResult("fake");

        Assert.Equal(2, result.Requests);
        Assert.Equal(2, result.Errors["timeout"]);
    }
}
