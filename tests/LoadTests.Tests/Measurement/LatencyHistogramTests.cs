using EgressLab.LoadTests.Measurement;

namespace EgressLab.LoadTests.Tests.Measurement;

public class LatencyHistogramTests
{
    private const int Samples = 200_000;

    private static readonly double[] Sweep =
        [0, 0.1, 1, 5, 10, 25, 33.3, 50, 66.6, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100];

    [Fact]
    public void ValueAtPercentile_LogUniformSample_MatchesSortedReferenceWithinPrecision()
    {
        var values = LogUniform(seed: 20240601, Samples);
        var histogram = new LatencyHistogram();
        foreach (var value in values)
        {
            histogram.Record(value);
        }

        var sorted = values.Order().ToArray();
        Assert.Equal(Samples, histogram.Count);
        foreach (var percentile in Sweep)
        {
            AssertWithinPrecision(sorted, percentile, histogram.ValueAtPercentile(percentile));
        }

        Assert.Equal(sorted[^1], histogram.MaxMicroseconds);
        Assert.Equal(sorted.Average(v => (double)v), histogram.MeanMicroseconds, 1e-6);

        var summary = histogram.Summary();
        Assert.Equal(Samples, summary.Count);
        AssertWithinPrecision(sorted, 50, (long)Math.Round(summary.P50Ms * 1000));
        AssertWithinPrecision(sorted, 90, (long)Math.Round(summary.P90Ms * 1000));
        AssertWithinPrecision(sorted, 99, (long)Math.Round(summary.P99Ms * 1000));
        AssertWithinPrecision(sorted, 99.9, (long)Math.Round(summary.P999Ms * 1000));
        Assert.Equal(sorted[^1] / 1000.0, summary.MaxMs, 1e-9);
    }

    [Fact]
    public void Buckets_LogUniformSample_CountEveryValueAtOrBelowTheirBound()
    {
        var values = LogUniform(seed: 7, 50_000);
        var histogram = new LatencyHistogram();
        foreach (var value in values)
        {
            histogram.Record(value);
        }

        var buckets = histogram.Buckets();
        Assert.Equal(values.Length, buckets.Sum(b => b.Count));
        Assert.True(buckets.Zip(buckets.Skip(1)).All(pair => pair.First.UpToMicroseconds < pair.Second.UpToMicroseconds), "buckets ascend");

        // Cumulative counts agree with the reference at every bucket bound.
        var sorted = values.Order().ToArray();
        long cumulative = 0;
        foreach (var bucket in buckets)
        {
            cumulative += bucket.Count;
            var atOrBelow = UpperBound(sorted, bucket.UpToMicroseconds);
            Assert.Equal(atOrBelow, cumulative);
        }
    }

    [Fact]
    public void Merge_TwoHalves_EqualsRecordingEverything()
    {
        var values = LogUniform(seed: 99, 60_000);
        var all = new LatencyHistogram();
        var first = new LatencyHistogram();
        var second = new LatencyHistogram();
        for (var i = 0; i < values.Length; i++)
        {
            all.Record(values[i]);
            (i % 3 == 0 ? first : second).Record(values[i]);
        }

        first.Merge(second);

        Assert.Equal(all.Count, first.Count);
        Assert.Equal(all.MaxMicroseconds, first.MaxMicroseconds);
        Assert.Equal(all.MeanMicroseconds, first.MeanMicroseconds, 1e-9);
        Assert.Equal(all.Buckets(), first.Buckets());
        foreach (var percentile in Sweep)
        {
            Assert.Equal(all.ValueAtPercentile(percentile), first.ValueAtPercentile(percentile));
        }
    }

    [Fact]
    public void Summary_Empty_IsAllZero()
    {
        var histogram = new LatencyHistogram();

        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.ValueAtPercentile(99));
        Assert.Empty(histogram.Buckets());
        Assert.Equal(new EgressLab.LoadTests.Results.LatencySummary(0, 0, 0, 0, 0, 0, 0), histogram.Summary());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2047)]
    [InlineData(2048)]
    [InlineData(12_345)]
    [InlineData(3_600_000_000)]
    public void ValueAtPercentile_SingleValue_IsThatValueAtEveryPercentile(long value)
    {
        var histogram = new LatencyHistogram();
        histogram.Record(value);

        foreach (var percentile in Sweep)
        {
            // Never below the value, never above the exact maximum.
            Assert.Equal(value, histogram.ValueAtPercentile(percentile));
        }

        Assert.Equal(value, histogram.MaxMicroseconds);
        Assert.Equal(value, histogram.MeanMicroseconds);
        var bucket = Assert.Single(histogram.Buckets());
        Assert.InRange(bucket.UpToMicroseconds, value, value + (value / 1024) + 1);
    }

    [Fact]
    public void Record_AboveRange_ClampedAndCounted()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(5);
        histogram.Record(LatencyHistogram.HighestTrackableMicroseconds + 1);
        histogram.Record(long.MaxValue);

        Assert.Equal(3, histogram.Count);
        Assert.Equal(2, histogram.Clamped);
        Assert.Equal(LatencyHistogram.HighestTrackableMicroseconds, histogram.MaxMicroseconds);
        Assert.Equal(LatencyHistogram.HighestTrackableMicroseconds, histogram.ValueAtPercentile(100));
        Assert.Equal(3, histogram.Buckets().Sum(b => b.Count));
    }

    [Fact]
    public void Record_Negative_CountsAsZero()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(-40);

        Assert.Equal(1, histogram.Count);
        Assert.Equal(0, histogram.ValueAtPercentile(50));
    }

    [Fact]
    public void Record_ManyThreads_LosesNothing()
    {
        var histogram = new LatencyHistogram();
        const int PerThread = 50_000;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, thread =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                histogram.Record(1 + (i % 5000));
            }
        });

        Assert.Equal(4 * PerThread, histogram.Count);
        Assert.Equal(4 * PerThread, histogram.Buckets().Sum(b => b.Count));
        Assert.Equal(5000, histogram.MaxMicroseconds);
    }

    [Fact]
    public void Record_Warm_AllocatesNothing()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++)
        {
            histogram.Record(i * 37L);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    /// <summary>Values spread evenly over the logarithm of 1 µs .. 10 s, as latencies of very different paths are.</summary>
    private static long[] LogUniform(int seed, int count)
    {
        var random = new Random(seed);
        var high = Math.Log(10_000_000);
        var values = new long[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = Math.Max(1, (long)Math.Exp(random.NextDouble() * high));
        }

        return values;
    }

    /// <summary>The histogram answers with the highest value equivalent to the nearest-rank value: never below it, and at
    /// most its bucket's width (value/1024, at least 1 µs) above.</summary>
    private static void AssertWithinPrecision(long[] sorted, double percentile, long actual)
    {
        var rank = Math.Max(1, (long)Math.Ceiling((decimal)percentile * sorted.Length / 100m));
        var expected = sorted[rank - 1];
        Assert.True(actual >= expected && actual <= expected + (expected / 1024) + 1,
            $"p{percentile}: histogram {actual} µs, reference {expected} µs (allowed up to {expected + (expected / 1024) + 1})");
    }

    private static long UpperBound(long[] sorted, long value)
    {
        int low = 0, high = sorted.Length;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (sorted[middle] <= value)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
