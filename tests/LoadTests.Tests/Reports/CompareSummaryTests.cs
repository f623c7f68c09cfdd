using EgressLab.LoadTests.Reports;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Tests.Reports;

public sealed class CompareSummaryTests
{
    [Theory]
    [InlineData(new[] { 3.0, 1.0, 2.0 }, 2.0, 1.0, 3.0)]
    [InlineData(new[] { 4.0, 1.0, 3.0, 2.0 }, 2.5, 1.0, 4.0)]
    [InlineData(new[] { 7.0 }, 7.0, 7.0, 7.0)]
    public void SpreadOf_Values_GivesMedianMinAndMax(double[] values, double median, double min, double max)
    {
        Assert.Equal(new Spread(median, min, max), Spread.Of(values));
    }

    [Fact]
    public void Merge_Rounds_SumsBucketsWithTheSameBound()
    {
        IReadOnlyList<HistogramBucket> a = [new(1000, 5), new(3000, 1)];
        IReadOnlyList<HistogramBucket> b = [new(2000, 2), new(1000, 4)];

        Assert.Equal([new(1000, 9), new(2000, 2), new(3000, 1)], CompareSummary.Merge([a, b]));
    }

    [Fact]
    public void Spectrum_KnownHistogram_GivesItsPercentiles()
    {
        IReadOnlyList<HistogramBucket> histogram = [new(1000, 50), new(2000, 40), new(5000, 9), new(20000, 1)];

        var points = CompareSummary.Spectrum(histogram);

        // 100 requests resolve two nines: ten steps per nine from 0% to 99%.
        Assert.Equal(21, points.Count);
        Assert.Equal(new ChartPoint(0, 1), points[0]);
        Assert.Equal(0.9, points[10].X, 12);
        Assert.Equal(2, points[10].Y);
        Assert.Equal(0.99, points[20].X, 12);
        Assert.Equal(5, points[20].Y);
        Assert.Equal(points.Select(p => p.Y).Order(), points.Select(p => p.Y));
    }

    [Fact]
    public void Spectrum_HugeSample_StopsAtFiveNines()
    {
        var points = CompareSummary.Spectrum([new HistogramBucket(1000, 100_000_000)]);

        Assert.Equal(51, points.Count);
        Assert.Equal(0.99999, points[^1].X, 12);
    }

    [Fact]
    public void Spectrum_Empty_GivesNoPoints()
    {
        Assert.Empty(CompareSummary.Spectrum([]));
    }

    [Fact]
    public void ThroughputOverTime_Rounds_AveragesEachSecond()
    {
        var results = CompareFixture.Create();
        var rounds = results.Cells.Where(c => c.PathId == "l3" && c.Scenario == "bulk").Select(c => c.Result).ToList();

        var points = CompareSummary.ThroughputOverTime(rounds);

        Assert.Equal(30, points.Count);
        var second = rounds.Select(r => r.Timeline[4]).ToList();
        Assert.Equal(4, points[4].X);
        Assert.Equal(second.Average(p => (p.BytesDown + p.BytesUp) / 1e6), points[4].Y, 9);
    }

    [Fact]
    public void Of_Fixture_ComparesEveryPathWithTheL3Path()
    {
        var summary = CompareSummary.Of(CompareFixture.Create());

        Assert.Equal("l3", summary.Baseline?.Id);
        Assert.Equal(CompareSummary.ScenarioOrder, summary.Scenarios.Select(s => s.Scenario));
        foreach (var section in summary.Scenarios)
        {
            var l3 = section.Paths[0];
            Assert.Null(l3.P50VsBaseline);
            Assert.Null(l3.ThroughputVsBaseline);
            var l7 = section.Paths[2];
            Assert.Equal(l7.Figures!.P50.Median / l3.Figures!.P50.Median, l7.P50VsBaseline!.Value, 12);
            Assert.True(l7.P99VsBaseline > 1, $"{section.Scenario}: the proxy is slower at p99 in the fixture");
        }
    }

    [Theory]
    [InlineData(0.004567, "0.00")]
    [InlineData(9.994, "9.99")]
    [InlineData(9.996, "10.0")]
    [InlineData(42.24, "42.2")]
    [InlineData(99.96, "100")]
    [InlineData(1234.4, "1,234")]
    [InlineData(-0.0, "0.00")]
    [InlineData(double.NaN, "—")]
    public void Milliseconds_Values_FollowTheMagnitude(double value, string expected)
    {
        Assert.Equal(expected, ReportFormat.Milliseconds(value));
    }
}
