using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Tests.Reports;

/// <summary>
/// A realistic compare run built in code, with fixed values: paths l3, l4 and l7, three rounds of all five scenarios,
/// histograms shaped like the percentiles, timelines, rate ladders, errors in a few cells, and request accounting
/// that does not add up for l7.
/// </summary>
internal static class CompareFixture
{
    public const int Rounds = 3;
    public const double Duration = 30;

    public static readonly EgressPath[] Paths =
    [
        new("l3", "L3", "Internet Gateway (1:1 NAT)", "public-1", "203.0.113.11:52344", NewTcpConnection: false, ApplicationAllowlist: false),
        new("l4", "L4", "NAT instance (PAT)", "private-1", "203.0.113.10:61012", NewTcpConnection: false, ApplicationAllowlist: false),
        new("l7", "L7", "egress proxy (:3128)", "private-1", "203.0.113.12:40788", NewTcpConnection: true, ApplicationAllowlist: true),
    ];

    /// <summary>Requests the l7 web server log is short of what the load generators counted.</summary>
    public const long L7Unlogged = 3;

    private sealed record Shape(string Name, LoadModel Model, double? Offered, int Concurrency, double P50, long Down, long Up, double BaseMBps);

    private static readonly Shape[] Shapes =
    [
        new("http-small", LoadModel.Open, 500, 256, 0.82, 2_048, 180, 0),
        new("https-small", LoadModel.Open, 400, 256, 1.64, 2_048, 220, 0),
        new("new-connection", LoadModel.Open, 100, 128, 3.3, 2_048, 600, 0),
        new("bulk", LoadModel.Closed, null, 4, 88, 10_000_000, 200, 112),
        new("upload", LoadModel.Closed, null, 4, 120, 300, 10_000_000, 84),
    ];

    // Per path: latency factor, tail factor, throughput factor.
    private static readonly (double Latency, double Tail, double Throughput)[] PathFactors = [(1.00, 1.00, 1.00), (1.12, 1.05, 0.96), (1.55, 1.30, 0.82)];

    // Rounds differ a little, and not in the same order on every path, so medians and ranges are not trivial.
    private static readonly double[] RoundFactors = [1.00, 1.04, 0.97];

    private static readonly Dictionary<string, double> L3Phases = new() { ["tcp-connect"] = 0.42, ["tls-handshake"] = 1.95, ["first-byte"] = 0.61, ["total"] = 3.05 };
    private static readonly Dictionary<string, double> L4Phases = new() { ["tcp-connect"] = 0.47, ["tls-handshake"] = 2.08, ["first-byte"] = 0.66, ["total"] = 3.3 };
    private static readonly Dictionary<string, double> L7Phases = new() { ["tcp-connect"] = 0.13, ["proxy-connect"] = 0.95, ["tls-handshake"] = 2.21, ["first-byte"] = 0.72, ["total"] = 4.1 };

    public static RunEnvironment Environment { get; } = new(
        "Linux 6.8.0-1017-aws x86_64",
        "10.0.0",
        2,
        "d756dfa",
        "dotnet run --project load-tests -- compare --paths l3,l4,l7 --rounds 3 --duration 30s --label \"NAT & proxy vs IGW\" --out results/2025-06-02",
        new DateTimeOffset(2025, 6, 2, 9, 30, 0, TimeSpan.Zero));

    public static CompareResults Create()
    {
        var cells = new List<CompareCell>();
        for (var round = 1; round <= Rounds; round++)
        {
            foreach (var shape in Shapes)
            {
                for (var p = 0; p < Paths.Length; p++)
                {
                    cells.Add(new CompareCell(Paths[p].Id, shape.Name, round, Result(shape, p, round)));
                }
            }
        }

        return new CompareResults
        {
            Environment = Environment,
            Rounds = Rounds,
            CellDurationSeconds = Duration,
            Paths = Paths,
            Cells = cells,
            Ladders = new Dictionary<string, IReadOnlyList<LadderStep>>
            {
                ["l3"] = Ladder([2.9, 3.0, 3.2, 3.9, 6.8, 210], [8000], 6120),
                ["l4"] = Ladder([3.1, 3.2, 3.5, 4.6, 9.8, 820], [8000], 5480),
                ["l7"] = Ladder([4.4, 4.6, 5.3, 7.9, 96, 1450], [4000, 8000], 3710),
            },
            Accounting = Paths
                .Select(path =>
                {
                    var counted = cells.Where(c => c.PathId == path.Id).Sum(c => c.Result.Requests);
                    return new RequestAccounting(path.Id, counted, path.Id == "l7" ? counted - L7Unlogged : counted);
                })
                .ToList(),
        };
    }

    private static ScenarioResult Result(Shape shape, int pathIndex, int round)
    {
        var factors = PathFactors[pathIndex];
        var roundFactor = RoundFactors[(round - 1 + pathIndex) % RoundFactors.Length];
        var pathId = Paths[pathIndex].Id;

        double achieved;
        long requests;
        if (shape.Model == LoadModel.Open)
        {
            achieved = shape.Offered!.Value * (0.999 - (0.002 * pathIndex)) * (round == 2 ? 0.998 : 1);
            requests = (long)Math.Round(achieved * Duration);
        }
        else
        {
            var mbps = shape.BaseMBps * factors.Throughput * (2 - roundFactor);
            requests = (long)Math.Round(mbps * 1e6 * Duration / (shape.Down + shape.Up));
            achieved = requests / Duration;
        }

        var bytesDown = requests * shape.Down;
        var bytesUp = requests * shape.Up;
        var p50 = shape.P50 * factors.Latency * roundFactor;
        var corrected = new LatencySummary(requests, p50 * 1.4, p50, p50 * 1.9, p50 * 4.2 * factors.Tail, p50 * 9.5 * factors.Tail, p50 * 15 * factors.Tail);
        var uncorrected = new LatencySummary(requests, corrected.MeanMs * 0.9, p50 * 0.97, corrected.P90Ms * 0.93, corrected.P99Ms * 0.8, corrected.P999Ms * 0.7, corrected.MaxMs * 0.7);

        var errors = new Dictionary<string, long>();
        if (pathId == "l7" && shape.Name == "https-small" && round == 2)
        {
            errors["timeout"] = 2;
        }

        if (pathId == "l4" && shape.Name == "new-connection" && round == 3)
        {
            errors["connect"] = 1;
            errors["reset"] = 1;
        }

        if (pathId == "l7" && shape.Name == "bulk" && round == 1)
        {
            errors["http-502"] = 1;
        }

        return new ScenarioResult
        {
            Scenario = shape.Name,
            Model = shape.Model,
            OfferedRate = shape.Offered,
            Concurrency = shape.Concurrency,
            DurationSeconds = Duration,
            WarmUpSeconds = 5,
            Requests = requests,
            AchievedRate = achieved,
            LateSends = pathId == "l7" && shape.Name == "new-connection" && round == 2 ? 14 : 0,
            BytesDown = bytesDown,
            BytesUp = bytesUp,
            ThroughputMBps = (bytesDown + bytesUp) / Duration / 1e6,
            Errors = errors,
            Corrected = corrected,
            Uncorrected = uncorrected,
            CorrectedHistogram = Histogram(corrected),
            Phases = shape.Name == "new-connection" ? Phases(pathIndex, roundFactor) : null,
            Timeline = Timeline(requests, bytesDown, bytesUp, errors.Values.Sum(), pathIndex, round),
        };
    }

    /// <summary>Buckets that reproduce the summary's shape: four log-spaced buckets between each pair of percentiles.</summary>
    private static List<HistogramBucket> Histogram(LatencySummary summary)
    {
        (double Fraction, double Ms)[] anchors =
        [
            (0, summary.P50Ms * 0.55), (0.5, summary.P50Ms), (0.9, summary.P90Ms), (0.99, summary.P99Ms), (0.999, summary.P999Ms), (1, summary.MaxMs),
        ];
        var buckets = new List<HistogramBucket>();
        long previousBound = 0;
        for (var segment = 1; segment < anchors.Length; segment++)
        {
            var (f0, v0) = anchors[segment - 1];
            var (f1, v1) = anchors[segment];
            var inSegment = (long)Math.Round(summary.Count * f1) - (long)Math.Round(summary.Count * f0);
            for (var k = 1; k <= 4; k++)
            {
                var count = (inSegment * k / 4) - (inSegment * (k - 1) / 4);
                var bound = Math.Max(previousBound + 1, (long)Math.Round(v0 * Math.Pow(v1 / v0, k / 4.0) * 1000));
                previousBound = bound;
                if (count > 0)
                {
                    buckets.Add(new HistogramBucket(bound, count));
                }
            }
        }

        return buckets;
    }

    private static Dictionary<string, LatencySummary> Phases(int pathIndex, double roundFactor) =>
        (pathIndex switch { 0 => L3Phases, 1 => L4Phases, _ => L7Phases })
        .ToDictionary(p => p.Key, p =>
        {
            var v = p.Value * roundFactor;
            return new LatencySummary(3000, v * 1.1, v, v * 1.6, v * 3, v * 6, v * 9);
        });

    private static List<TimelinePoint> Timeline(long requests, long bytesDown, long bytesUp, long errors, int pathIndex, int round)
    {
        var points = new List<TimelinePoint>();
        for (var second = 0; second < (int)Duration; second++)
        {
            // ±2% from second to second, in a pattern that differs per path and round.
            var wobble = 1 + ((((second * 7) + (pathIndex * 3) + round) % 5) - 2) / 100.0;
            points.Add(new TimelinePoint(
                second,
                (long)Math.Round(requests / Duration * wobble),
                second == 17 ? errors : 0,
                (long)Math.Round(bytesDown / Duration * wobble),
                (long)Math.Round(bytesUp / Duration * wobble)));
        }

        return points;
    }

    private static List<LadderStep> Ladder(double[] p99, double[] saturatedAt, double achievedWhenSaturated)
    {
        double[] offered = [250, 500, 1000, 2000, 4000, 8000];
        return offered
            .Select((rate, i) =>
            {
                var saturated = saturatedAt.Contains(rate);
                return new LadderStep(rate, saturated ? Math.Min(rate, achievedWhenSaturated) : rate, p99[i], saturated ? 0.004 : 0, saturated);
            })
            .ToList();
    }
}
