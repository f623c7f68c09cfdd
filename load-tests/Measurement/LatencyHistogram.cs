using System.Numerics;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Measurement;

/// <summary>
/// An HDR-style log-linear histogram of latencies in microseconds, from 1 µs to 2^32 − 1 µs (about 71 minutes),
/// with 3 significant digits: each power of two is split into 1024 sub-buckets (2048 at the bottom), so a value is
/// kept to within 1/1024 of itself. Recording is lock-free and allocation-free, and safe from any number of threads.
/// </summary>
/// <remarks>
/// The index arithmetic is HdrHistogram's (Gil Tene): bucket = the power of two above the sub-bucket range,
/// sub-bucket = the value shifted down by the bucket's magnitude. Percentiles return the highest value that is
/// equivalent (shares a sub-bucket) with the ranked value, as HdrHistogram does, so they never understate.
/// </remarks>
internal sealed class LatencyHistogram
{
    /// <summary>The largest value kept as itself; larger values are recorded as this value and counted in <see cref="Clamped"/>.</summary>
    public const long HighestTrackableMicroseconds = (1L << 32) - 1;

    private const int SubBucketHalfCountMagnitude = 10;
    private const int SubBucketHalfCount = 1 << SubBucketHalfCountMagnitude;
    private const int SubBucketCount = SubBucketHalfCount * 2;
    private const long SubBucketMask = SubBucketCount - 1;

    // 64 − unit magnitude (0: the unit is 1 µs) − half-count magnitude − 1.
    private const int LeadingZeroCountBase = 64 - SubBucketHalfCountMagnitude - 1;

    // Buckets needed so that SubBucketCount << (BucketCount − 1) exceeds the highest trackable value.
    private const int BucketCount = 22;
    private const int CountsLength = (BucketCount + 1) * SubBucketHalfCount;

    private readonly long[] _counts = new long[CountsLength];
    private long _totalCount;
    private long _sum;
    private long _max;
    private long _clamped;

    public long Count => Volatile.Read(ref _totalCount);

    /// <summary>Values above <see cref="HighestTrackableMicroseconds"/>, recorded as that value.</summary>
    public long Clamped => Volatile.Read(ref _clamped);

    /// <summary>The largest value recorded, exactly (not rounded to its bucket).</summary>
    public long MaxMicroseconds => Volatile.Read(ref _max);

    /// <summary>The exact mean of the recorded values (kept as a running sum, not estimated from buckets).</summary>
    public double MeanMicroseconds
    {
        get
        {
            var count = Count;
            return count == 0 ? 0 : (double)Volatile.Read(ref _sum) / count;
        }
    }

    public void Record(long microseconds)
    {
        // A clock that steps back or a timestamp taken out of order yields a small negative: it means "no time".
        if (microseconds < 0)
        {
            microseconds = 0;
        }
        else if (microseconds > HighestTrackableMicroseconds)
        {
            microseconds = HighestTrackableMicroseconds;
            Interlocked.Increment(ref _clamped);
        }

        Interlocked.Increment(ref _counts[CountsIndex(microseconds)]);
        Interlocked.Add(ref _sum, microseconds);
        Interlocked.Increment(ref _totalCount);
        var max = Volatile.Read(ref _max);
        while (microseconds > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, microseconds, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    /// <summary>Records a duration given in <see cref="System.Diagnostics.Stopwatch"/> ticks.</summary>
    public void RecordTicks(long ticks) => Record(TicksToMicroseconds(ticks));

    public static long TicksToMicroseconds(long ticks) =>
        (long)(ticks * (1_000_000.0 / System.Diagnostics.Stopwatch.Frequency));

    /// <summary>Adds every value of <paramref name="other"/> to this histogram.</summary>
    public void Merge(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < CountsLength; i++)
        {
            var count = Volatile.Read(ref other._counts[i]);
            if (count != 0)
            {
                Interlocked.Add(ref _counts[i], count);
            }
        }

        Interlocked.Add(ref _sum, Volatile.Read(ref other._sum));
        Interlocked.Add(ref _totalCount, other.Count);
        Interlocked.Add(ref _clamped, other.Clamped);
        var otherMax = other.MaxMicroseconds;
        var max = Volatile.Read(ref _max);
        while (otherMax > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, otherMax, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    /// <summary>
    /// The value at <paramref name="percentile"/> (0–100) by nearest rank: the highest value equivalent to the
    /// ceil(percentile/100 × count)-th smallest value recorded. 0 when empty.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        var total = Count;
        if (total == 0)
        {
            return 0;
        }

        var rank = RankOf(percentile, total);
        long seen = 0;
        for (var i = 0; i < CountsLength; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                // Never above the exact maximum: the top bucket's upper bound may lie beyond anything recorded.
                return Math.Min(HighestEquivalentValue(i), MaxMicroseconds);
            }
        }

        return MaxMicroseconds;
    }

    /// <summary>The nearest rank (1-based) of a percentile among <paramref name="count"/> sorted values.</summary>
    public static long RankOf(double percentile, long count)
    {
        // Rounded before the ceiling so that binary noise (99.9 × 1000 / 100 = 999.0000000000001) cannot push the
        // rank one place up.
        var clamped = Math.Clamp(percentile, 0.0, 100.0);
        return Math.Clamp((long)Math.Ceiling(Math.Round(clamped * count / 100.0, 6)), 1, count);
    }

    /// <summary>The non-empty buckets in ascending order, each with the highest value it holds.</summary>
    public IReadOnlyList<HistogramBucket> Buckets()
    {
        var buckets = new List<HistogramBucket>();
        for (var i = 0; i < CountsLength; i++)
        {
            var count = Volatile.Read(ref _counts[i]);
            if (count != 0)
            {
                buckets.Add(new HistogramBucket(HighestEquivalentValue(i), count));
            }
        }

        return buckets;
    }

    public LatencySummary Summary() => new(
        Count,
        MeanMicroseconds / 1000.0,
        ValueAtPercentile(50) / 1000.0,
        ValueAtPercentile(90) / 1000.0,
        ValueAtPercentile(99) / 1000.0,
        ValueAtPercentile(99.9) / 1000.0,
        MaxMicroseconds / 1000.0);

    private static int CountsIndex(long value)
    {
        var bucketIndex = LeadingZeroCountBase - BitOperations.LeadingZeroCount((ulong)(value | SubBucketMask));
        var subBucketIndex = (int)(value >> bucketIndex);
        return ((bucketIndex + 1) << SubBucketHalfCountMagnitude) + (subBucketIndex - SubBucketHalfCount);
    }

    private static long HighestEquivalentValue(int countsIndex)
    {
        var bucketIndex = (countsIndex >> SubBucketHalfCountMagnitude) - 1;
        var subBucketIndex = (countsIndex & (SubBucketHalfCount - 1)) + SubBucketHalfCount;
        if (bucketIndex < 0)
        {
            subBucketIndex -= SubBucketHalfCount;
            bucketIndex = 0;
        }

        var lowest = (long)subBucketIndex << bucketIndex;
        return lowest + (1L << bucketIndex) - 1;
    }
}
