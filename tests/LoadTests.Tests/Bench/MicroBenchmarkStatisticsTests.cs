using EgressLab.LoadTests.Bench;

namespace EgressLab.LoadTests.Tests.Bench;

public class MicroBenchmarkStatisticsTests
{
    [Fact]
    public void Compute_OddCount_MatchesHandComputedValues()
    {
        // Mean 12; squared deviations 4 + 0 + 1 + 1 + 4 = 10, so the variance is 10 / 4 = 2.5. The error is
        // t(99.9%, 4) × √2.5 / √5 = 8.6103 × √0.5.
        var statistics = MicroBenchmarkStatistics.Compute([14, 10, 12, 13, 11]);

        Assert.Equal(5, statistics.Count);
        Assert.Equal(12, statistics.Mean, 12);
        Assert.Equal(12, statistics.Median, 12);
        Assert.Equal(Math.Sqrt(2.5), statistics.StandardDeviation, 12);
        Assert.Equal(8.6103 * Math.Sqrt(0.5), statistics.Error, 3);
        Assert.Equal(10, statistics.Min);
        Assert.Equal(14, statistics.Max);
    }

    [Fact]
    public void Compute_EvenCount_MedianIsMeanOfMiddlePair()
    {
        // Mean 125; squared deviations 625 + 25 + 225 + 25 + 625 + 225 = 1750, variance 350. t(99.9%, 5) = 6.8688.
        var statistics = MicroBenchmarkStatistics.Compute([100, 130, 110, 120, 150, 140]);

        Assert.Equal(125, statistics.Mean, 12);
        Assert.Equal(125, statistics.Median, 12);
        Assert.Equal(Math.Sqrt(350), statistics.StandardDeviation, 12);
        Assert.Equal(6.8688 * Math.Sqrt(350) / Math.Sqrt(6), statistics.Error, 2);
        Assert.Equal(100, statistics.Min);
        Assert.Equal(150, statistics.Max);
    }

    [Fact]
    public void Compute_EqualSamples_HasNoSpreadOrError()
    {
        var statistics = MicroBenchmarkStatistics.Compute([42.5, 42.5, 42.5]);

        Assert.Equal(42.5, statistics.Mean, 12);
        Assert.Equal(42.5, statistics.Median);
        Assert.Equal(0, statistics.StandardDeviation);
        Assert.Equal(0, statistics.Error);
    }

    [Fact]
    public void Compute_Samples_LeavesInputInItsOrder()
    {
        double[] samples = [3, 1, 2];

        MicroBenchmarkStatistics.Compute(samples);

        Assert.Equal([3, 1, 2], samples);
    }

    [Theory]
    [InlineData(new double[0])]
    [InlineData(new[] { 1.0 })]
    [InlineData(new[] { 1.0, double.NaN })]
    [InlineData(new[] { 1.0, double.PositiveInfinity })]
    public void Compute_TooFewOrNonFiniteSamples_Throws(double[] samples)
    {
        Assert.Throws<ArgumentException>(() => MicroBenchmarkStatistics.Compute(samples));
    }

    [Theory]
    // Two-sided 99.9% (one tail 0.0005) critical values from published t tables.
    [InlineData(1, 636.619)]
    [InlineData(2, 31.599)]
    [InlineData(3, 12.924)]
    [InlineData(4, 8.610)]
    [InlineData(5, 6.869)]
    [InlineData(9, 4.781)]
    [InlineData(14, 4.140)]
    [InlineData(29, 3.659)]
    [InlineData(120, 3.373)]
    public void TwoSidedCriticalValue_NinetyNinePointNine_MatchesTable(int degreesOfFreedom, double expected)
    {
        var t = MicroBenchmarkStatistics.TwoSidedCriticalValue(0.999, degreesOfFreedom);

        Assert.Equal(expected, t, 0.0006 * expected);
    }

    [Theory]
    // Two-sided 95%: the familiar 12.706 for one degree of freedom and 2.145 for 14.
    [InlineData(1, 12.706)]
    [InlineData(14, 2.145)]
    public void TwoSidedCriticalValue_NinetyFive_MatchesTable(int degreesOfFreedom, double expected)
    {
        Assert.Equal(expected, MicroBenchmarkStatistics.TwoSidedCriticalValue(0.95, degreesOfFreedom), 0.001);
    }

    [Theory]
    [InlineData(0.999, 0)]
    [InlineData(0, 4)]
    [InlineData(1, 4)]
    public void TwoSidedCriticalValue_OutOfRange_Throws(double confidence, int degreesOfFreedom)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MicroBenchmarkStatistics.TwoSidedCriticalValue(confidence, degreesOfFreedom));
    }
}
