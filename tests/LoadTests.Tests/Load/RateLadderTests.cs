using EgressLab.LoadTests.Load;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Tests.Load;

public class RateLadderTests
{
    [Theory]
    [InlineData(100, 100, 1.0, 0, false)]
    [InlineData(100, 96, 1.0, 0, false)]
    [InlineData(100, 94, 1.0, 0, true)]
    [InlineData(100, 100, 1.0, 1, true)]
    [InlineData(100, 100, 19.0, 0, false)]
    [InlineData(100, 100, 25.0, 0, true)]
    public void Judge_Step_SaturatedWhenAchievedErrorsOrP99Break(double offered, double achieved, double p99, long errors, bool saturated)
    {
        var result = new ScenarioResult
        {
            Scenario = "http-small",
            Model = LoadModel.Open,
            OfferedRate = offered,
            Concurrency = 1000,
            DurationSeconds = 1,
            WarmUpSeconds = 0,
            Requests = 100,
            AchievedRate = achieved,
            BytesDown = 0,
            BytesUp = 0,
            ThroughputMBps = 0,
            Errors = errors == 0 ? new Dictionary<string, long>() : new Dictionary<string, long> { ["timeout"] = errors },
            Corrected = new LatencySummary(100, 1, 1, 1, p99, p99, p99),
            Uncorrected = new LatencySummary(100, 1, 1, 1, p99, p99, p99),
            CorrectedHistogram = [],
            Timeline = [],
        };

        // Against a 1 ms baseline the p99 bound is its 20 ms floor.
        var step = RateLadder.Judge(result, baselineP99Ms: 1.0);

        Assert.Equal(saturated, step.Saturated);
        Assert.Equal(offered, step.OfferedRate);
        Assert.Equal(errors / 100.0, step.ErrorRate, 1e-9);
    }
}
