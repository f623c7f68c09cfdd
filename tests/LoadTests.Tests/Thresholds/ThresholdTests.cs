using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Thresholds;

namespace EgressLab.LoadTests.Tests.Thresholds;

public class ThresholdTests
{
    private static readonly ScenarioResult Result = new()
    {
        Scenario = "http-small",
        Model = LoadModel.Open,
        OfferedRate = 100,
        Concurrency = 1000,
        DurationSeconds = 10,
        WarmUpSeconds = 0,
        Requests = 990,
        AchievedRate = 98.5,
        DroppedSends = 10,
        BytesDown = 1_013_760,
        BytesUp = 0,
        ThroughputMBps = 0.101376,
        Errors = new Dictionary<string, long> { ["timeout"] = 5 },
        Corrected = new LatencySummary(990, 2.5, 1.0, 3.0, 40.0, 90.0, 120.0),
        Uncorrected = new LatencySummary(990, 1.5, 1.0, 2.0, 5.0, 9.0, 120.0),
        CorrectedHistogram = [],
        Timeline = [],
    };

    [Theory]
    [InlineData("p50<2ms", 1.0, true)]
    [InlineData("p90 <= 3ms", 3.0, true)]
    [InlineData("p99<50ms", 40.0, true)]
    [InlineData("p99<0.03s", 40.0, false)]
    [InlineData("p999<90ms", 90.0, false)]
    [InlineData("p99.9<=90ms", 90.0, true)]
    [InlineData("max<1.5s", 120.0, true)]
    [InlineData("mean>2ms", 2.5, true)]
    // 5 failed plus 10 dropped, over 990 completed plus 10 dropped.
    [InlineData("errors<1%", 1.5, false)]
    [InlineData("errors<2%", 1.5, true)]
    [InlineData("rate>=95", 98.5, true)]
    [InlineData("rate>=99/s", 98.5, false)]
    [InlineData("mbps>0.1", 0.101376, true)]
    [InlineData("MBPS>1MB/s", 0.101376, false)]
    public void Evaluate_Expression_ActualAndVerdict(string expression, double actual, bool passed)
    {
        Assert.True(Threshold.TryParse(expression, out var threshold, out var error), error);

        var evaluated = threshold!.Evaluate(Result);

        Assert.Equal(expression, evaluated.Expression);
        Assert.Equal(actual, evaluated.Actual, 1e-9);
        Assert.Equal(passed, evaluated.Passed);
    }

    [Theory]
    [InlineData("p95<50ms", "unknown metric 'p95'")]
    [InlineData("latency<50ms", "unknown metric 'latency'")]
    [InlineData("p99<50", "no unit for p99; its unit is ms or s")]
    [InlineData("p99<50us", "unit 'us' for p99")]
    [InlineData("errors<1", "no unit for errors; its unit is %")]
    [InlineData("rate>5%", "unit '%' for rate")]
    [InlineData("p99=50ms", "is not a threshold")]
    [InlineData("p99<", "is not a threshold")]
    [InlineData("", "is not a threshold")]
    public void TryParse_Invalid_ListsWhatIsValid(string expression, string expected)
    {
        Assert.False(Threshold.TryParse(expression, out _, out var error));

        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
