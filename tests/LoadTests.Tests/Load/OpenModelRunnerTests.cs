using EgressLab.LoadTests.Load;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Scenarios;
using EgressLab.LoadTests.Tests.TestHost;

namespace EgressLab.LoadTests.Tests.Load;

[Collection(TimingSensitive.Name)]
public class OpenModelRunnerTests
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task RunAsync_StallBehindOneKeepAliveConnection_CorrectedP99ShowsItUncorrectedDoesNot()
    {
        // 100 req/s for 1 s of warm-up and a 3 s window, through ONE keep-alive connection. The origin holds the 200th
        // request (1 s into the window) for a second; every request due meanwhile queues behind it. A tool that times
        // from the actual send sees one slow request; users waited for about a hundred.
        const int Rate = 100;
        var stall = TimeSpan.FromSeconds(1);
        await using var origin = await LabOrigin.StartAsync();
        origin.BeforeSmall = (n, token) => n == 200 ? Task.Delay(stall, token) : Task.CompletedTask;
        using var operation = new HttpScenario(ScenarioKind.HttpSmall, new Uri($"http://127.0.0.1:{origin.HttpPort}/1k"), null,
            CertificateTrust.SystemOnly, TimeSpan.FromSeconds(10), maxConnections: 1);
        var plan = new LoadPlan
        {
            Model = LoadModel.Open,
            Rate = Rate,
            WarmUp = TimeSpan.FromSeconds(1),
            Duration = TimeSpan.FromSeconds(3),
            Grace = TimeSpan.FromSeconds(5),
        };
        var runner = LoadRunner.Create(operation, plan);

        await runner.RunAsync(TestContext.Current.CancellationToken).WaitAsync(RunLimit, TestContext.Current.CancellationToken);
        var result = runner.Recorder.ToResult("http-small");
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"requests {result.Requests} late {result.LateSends} dropped {result.DroppedSends}; p99 corrected {result.Corrected.P99Ms} ms, " +
            $"uncorrected {result.Uncorrected.P99Ms} ms; max uncorrected {result.Uncorrected.MaxMs} ms");

        Assert.Empty(result.Errors);
        Assert.Equal(0, result.DroppedSends);
        Assert.Equal(Rate * 3, result.Requests + result.DroppedSends);
        Assert.InRange(result.LateSends, 0, result.Requests);
        Assert.True(result.Corrected.P99Ms >= 500, $"corrected p99 {result.Corrected.P99Ms} ms should show the 1 s stall");
        Assert.True(result.Uncorrected.P99Ms < 200, $"uncorrected p99 {result.Uncorrected.P99Ms} ms should hide it (coordinated omission)");

        // The one request that was held is in the uncorrected maximum; the corrected histogram holds the whole queue.
        Assert.True(result.Uncorrected.MaxMs >= 900, $"uncorrected max {result.Uncorrected.MaxMs} ms");
        var waitedHalfASecond = result.CorrectedHistogram.Where(b => b.UpToMicroseconds >= 500_000).Sum(b => b.Count);
        Assert.True(waitedHalfASecond >= 30, $"{waitedHalfASecond} requests waited 500 ms or more; about 50 should have");
        Assert.Equal(result.Requests, result.CorrectedHistogram.Sum(b => b.Count));
    }

    [Fact]
    public async Task RunAsync_StallWithFewRequestsAllowedInFlight_DropsAreCountedNotSkipped()
    {
        const int Rate = 100;
        await using var origin = await LabOrigin.StartAsync();
        origin.BeforeSmall = (n, token) => n == 50 ? Task.Delay(TimeSpan.FromMilliseconds(600), token) : Task.CompletedTask;
        using var operation = new HttpScenario(ScenarioKind.HttpSmall, new Uri($"http://127.0.0.1:{origin.HttpPort}/1k"), null,
            CertificateTrust.SystemOnly, TimeSpan.FromSeconds(10), maxConnections: 1);
        var plan = new LoadPlan
        {
            Model = LoadModel.Open,
            Rate = Rate,
            MaxInFlight = 5,
            WarmUp = TimeSpan.Zero,
            Duration = TimeSpan.FromSeconds(1.5),
            Grace = TimeSpan.FromSeconds(5),
        };
        var runner = LoadRunner.Create(operation, plan);

        await runner.RunAsync(TestContext.Current.CancellationToken).WaitAsync(RunLimit, TestContext.Current.CancellationToken);
        var result = runner.Recorder.ToResult("http-small");

        // About 55 sends fall due during the 600 ms hold while 5 are already outstanding.
        Assert.True(result.DroppedSends >= 30, $"{result.DroppedSends} dropped");
        Assert.Equal(150, result.Requests + result.DroppedSends);
        Assert.Equal(result.Requests, origin.SmallServed);
        Assert.True(result.ErrorPercent() > 10, "dropped sends count against the run");
    }

    [Fact]
    public async Task RunAsync_FakeOperation_SendsRateTimesWindowAndLeavesWarmUpOut()
    {
        using var operation = new FakeOperation(TimeSpan.FromMilliseconds(2));
        var plan = new LoadPlan
        {
            Model = LoadModel.Open,
            Rate = 200,
            WarmUp = TimeSpan.FromMilliseconds(500),
            Duration = TimeSpan.FromSeconds(1),
            Grace = TimeSpan.FromSeconds(5),
        };
        var runner = LoadRunner.Create(operation, plan);

        await runner.RunAsync(TestContext.Current.CancellationToken).WaitAsync(RunLimit, TestContext.Current.CancellationToken);
        var result = runner.Recorder.ToResult("fake");

        Assert.Equal(300, operation.Calls);
        Assert.Equal(300, runner.Started);
        Assert.Equal(200, result.Requests);
        Assert.Equal(200, result.Corrected.Count);
        Assert.Equal(2000, result.BytesDown);
        Assert.Equal(LoadModel.Open, result.Model);
        Assert.Equal(200, result.OfferedRate);
        Assert.InRange(result.AchievedRate, 180, 220);
        Assert.Equal(result.Requests, result.Timeline.Sum(p => p.Requests));
    }

    [Fact]
    public async Task RunAsync_RequestsOutstandingAfterGrace_CancelledAndCountedAsTimeouts()
    {
        using var operation = new FakeOperation(Timeout.InfiniteTimeSpan);
        var plan = new LoadPlan
        {
            Model = LoadModel.Open,
            Rate = 20,
            WarmUp = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(500),
            Grace = TimeSpan.FromMilliseconds(200),
        };
        var runner = LoadRunner.Create(operation, plan);

        await runner.RunAsync(TestContext.Current.CancellationToken).WaitAsync(RunLimit, TestContext.Current.CancellationToken);
        var result = runner.Recorder.ToResult("fake");

        Assert.Equal(10, result.Requests);
        Assert.Equal(10, result.Errors["timeout"]);
        Assert.Equal(0, runner.InFlight);
        Assert.True(result.Corrected.MaxMs >= 600, $"the first request waited the window and the grace: {result.Corrected.MaxMs} ms");
    }
}
