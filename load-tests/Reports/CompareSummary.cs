using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Reports;

/// <summary>A figure across rounds: the median, and the range the rounds spanned.</summary>
internal readonly record struct Spread(double Median, double Min, double Max)
{
    public static Spread Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("a spread needs at least one value", nameof(values));
        }

        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new Spread(median, sorted[0], sorted[^1]);
    }
}

/// <summary>One path's figures in one scenario, over its rounds.</summary>
internal sealed record PathFigures(
    Spread P50,
    Spread P90,
    Spread P99,
    Spread P999,
    Spread P99Uncorrected,
    Spread AchievedRate,
    Spread ThroughputMBps,
    long Requests,
    long Errors,
    IReadOnlyList<KeyValuePair<string, long>> ErrorsByClass,
    long LateSends,
    long DroppedSends);

/// <summary>One path in one scenario: its rounds (in round order), their figures, and how they compare with L3.</summary>
internal sealed record PathScenario(EgressPath Path, IReadOnlyList<ScenarioResult> Rounds, PathFigures? Figures)
{
    /// <summary>Median p50 over the L3 path's; null for the L3 path itself, or without an L3 path measured here.</summary>
    public double? P50VsBaseline { get; init; }
    public double? P99VsBaseline { get; init; }
    public double? ThroughputVsBaseline { get; init; }
}

/// <summary>One scenario: every path (in the order given), and the phases its cells timed.</summary>
internal sealed record ScenarioSection(string Scenario, ScenarioResult Sample, IReadOnlyList<PathScenario> Paths, IReadOnlyList<string> Phases);

/// <summary>The request accounting of one path: counted by the load generators, logged by the lab's web server.</summary>
internal sealed record AccountingRow(string PathId, long Counted, long Logged, long Failed)
{
    public long Difference => Counted - Logged;

    /// <summary>Every success logged, and nothing more than the failures besides (see <see cref="RequestAccounting.AddsUp"/>).</summary>
    public bool Matches => new RequestAccounting(PathId, Counted, Logged, Failed).AddsUp;
}

/// <summary>
/// What both report formats show, computed once from <see cref="CompareResults"/>: rounds merged into medians and
/// ranges, ratios to the L3 path, scenarios in the canonical order. Pure, so the same results give the same report.
/// </summary>
internal sealed class CompareSummary
{
    public static readonly IReadOnlyList<string> ScenarioOrder = ["http-small", "https-small", "new-connection", "bulk", "upload"];
    public static readonly IReadOnlyList<string> PhaseOrder = ["tcp-connect", "proxy-connect", "tls-handshake", "first-byte", "total"];

    private CompareSummary(CompareResults results, EgressPath? baseline, IReadOnlyList<ScenarioSection> scenarios, IReadOnlyList<AccountingRow> accounting)
    {
        Results = results;
        Baseline = baseline;
        Scenarios = scenarios;
        Accounting = accounting;
    }

    public CompareResults Results { get; }

    /// <summary>The first path whose layer is L3: what overhead is measured against.</summary>
    public EgressPath? Baseline { get; }
    public IReadOnlyList<ScenarioSection> Scenarios { get; }
    public IReadOnlyList<AccountingRow> Accounting { get; }

    public static CompareSummary Of(CompareResults results)
    {
        var baseline = results.Paths.FirstOrDefault(p => string.Equals(p.Layer, "L3", StringComparison.OrdinalIgnoreCase));
        var scenarios = results.Cells
            .Where(c => results.Paths.Any(p => p.Id == c.PathId))
            .Select(c => c.Scenario)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(Rank)
            .ThenBy(s => s, StringComparer.Ordinal)
            .Select(s => Section(results, s, baseline))
            .ToList();

        // Paths in the order given, then any the accounting names that are not paths.
        var accounting = results.Accounting
            .OrderBy(a => IndexOf(results.Paths, a.PathId))
            .Select(a => new AccountingRow(a.PathId, a.Counted, a.Logged, a.Failed))
            .ToList();
        return new CompareSummary(results, baseline, scenarios, accounting);
    }

    /// <summary>Sums histograms bucket by bucket (buckets with the same upper bound are the same bucket).</summary>
    public static IReadOnlyList<HistogramBucket> Merge(IEnumerable<IReadOnlyList<HistogramBucket>> histograms) =>
        histograms
            .SelectMany(h => h)
            .GroupBy(b => b.UpToMicroseconds)
            .OrderBy(g => g.Key)
            .Select(g => new HistogramBucket(g.Key, g.Sum(b => b.Count)))
            .Where(b => b.Count > 0)
            .ToList();

    /// <summary>
    /// Latency (ms) at percentiles spread evenly on the 1/(1−p) log scale, ten per "nine", from 0% up to the last
    /// percentile the sample can resolve (one in N requests) or 99.999%, whichever is lower.
    /// </summary>
    public static IReadOnlyList<ChartPoint> Spectrum(IReadOnlyList<HistogramBucket> histogram)
    {
        const int StepsPerNine = 10;
        const double MostNines = 5;
        var total = histogram.Sum(b => b.Count);
        if (total <= 0)
        {
            return [];
        }

        var nines = Math.Min(Math.Log10(total), MostNines);
        var levels = new List<double>();
        for (var step = 0; step <= nines * StepsPerNine + 1e-9; step++)
        {
            levels.Add(step / (double)StepsPerNine);
        }

        if (nines - levels[^1] > 1e-9)
        {
            levels.Add(nines);
        }

        var points = new List<ChartPoint>(levels.Count);
        foreach (var level in levels)
        {
            var percentile = 1 - Math.Pow(10, -level);
            points.Add(new ChartPoint(percentile, ValueAt(histogram, total, percentile)));
        }

        return points;
    }

    /// <summary>Bytes down and up per second of the measured window (MB/s), averaged over the rounds that reached that second.</summary>
    public static IReadOnlyList<ChartPoint> ThroughputOverTime(IEnumerable<ScenarioResult> rounds) =>
        rounds
            .SelectMany(r => r.Timeline)
            .GroupBy(p => p.AtSeconds)
            .OrderBy(g => g.Key)
            .Select(g => new ChartPoint(g.Key, g.Average(p => (p.BytesDown + p.BytesUp) / 1e6)))
            .ToList();

    /// <summary>The median across rounds of a phase's p50, or null when no round timed that phase.</summary>
    public static double? PhaseMedian(PathScenario path, string phase)
    {
        var values = path.Rounds
            .Select(r => r.Phases is not null && r.Phases.TryGetValue(phase, out var summary) ? summary.P50Ms : (double?)null)
            .OfType<double>()
            .ToList();
        return values.Count == 0 ? null : Spread.Of(values).Median;
    }

    /// <summary>The rate ladder of a path, by offered rate; empty when none was run.</summary>
    public IReadOnlyList<LadderStep> Ladder(string pathId) =>
        Results.Ladders.TryGetValue(pathId, out var steps) ? steps.OrderBy(s => s.OfferedRate).ToList() : [];

    private static double ValueAt(IReadOnlyList<HistogramBucket> histogram, long total, double percentile)
    {
        // The rank of the request at this percentile; the tolerance keeps 0.99 × 10000 from rounding up to 9901.
        var rank = Math.Max(1, (long)Math.Ceiling(percentile * total - 1e-9));
        long seen = 0;
        foreach (var bucket in histogram)
        {
            seen += bucket.Count;
            if (seen >= rank)
            {
                return bucket.UpToMicroseconds / 1000.0;
            }
        }

        return histogram[^1].UpToMicroseconds / 1000.0;
    }

    private static ScenarioSection Section(CompareResults results, string scenario, EgressPath? baseline)
    {
        var paths = results.Paths
            .Select(path =>
            {
                var rounds = results.Cells
                    .Where(c => c.PathId == path.Id && c.Scenario == scenario)
                    .OrderBy(c => c.Round)
                    .Select(c => c.Result)
                    .ToList();
                return new PathScenario(path, rounds, rounds.Count == 0 ? null : Figures(rounds));
            })
            .ToList();

        var reference = baseline is null ? null : paths.First(p => p.Path == baseline).Figures;
        for (var i = 0; i < paths.Count; i++)
        {
            if (reference is null || paths[i].Path == baseline || paths[i].Figures is not { } figures)
            {
                continue;
            }

            paths[i] = paths[i] with
            {
                P50VsBaseline = Divide(figures.P50.Median, reference.P50.Median),
                P99VsBaseline = Divide(figures.P99.Median, reference.P99.Median),
                ThroughputVsBaseline = Divide(figures.ThroughputMBps.Median, reference.ThroughputMBps.Median),
            };
        }

        var sample = paths.SelectMany(p => p.Rounds).First();
        var phases = paths
            .SelectMany(p => p.Rounds)
            .SelectMany(r => r.Phases?.Keys ?? [])
            .Distinct(StringComparer.Ordinal)
            .OrderBy(p => Position(PhaseOrder, p))
            .ThenBy(p => p, StringComparer.Ordinal)
            .ToList();
        return new ScenarioSection(scenario, sample, paths, phases);
    }

    private static PathFigures Figures(IReadOnlyList<ScenarioResult> rounds)
    {
        Spread Of(Func<ScenarioResult, double> figure) => Spread.Of(rounds.Select(figure));
        var errorsByClass = rounds
            .SelectMany(r => r.Errors)
            .GroupBy(e => e.Key, StringComparer.Ordinal)
            .Select(g => KeyValuePair.Create(g.Key, g.Sum(e => e.Value)))
            .Where(e => e.Value != 0)
            .OrderByDescending(e => e.Value)
            .ThenBy(e => e.Key, StringComparer.Ordinal)
            .ToList();
        return new PathFigures(
            Of(r => r.Corrected.P50Ms),
            Of(r => r.Corrected.P90Ms),
            Of(r => r.Corrected.P99Ms),
            Of(r => r.Corrected.P999Ms),
            Of(r => r.Uncorrected.P99Ms),
            Of(r => r.AchievedRate),
            Of(r => r.ThroughputMBps),
            rounds.Sum(r => r.Requests),
            errorsByClass.Sum(e => e.Value),
            errorsByClass,
            rounds.Sum(r => r.LateSends),
            rounds.Sum(r => r.DroppedSends));
    }

    private static double? Divide(double value, double reference) => reference > 0 ? value / reference : null;

    private static int Rank(string scenario) => Position(ScenarioOrder, scenario);

    private static int Position(IReadOnlyList<string> order, string value)
    {
        for (var i = 0; i < order.Count; i++)
        {
            if (order[i] == value)
            {
                return i;
            }
        }

        return int.MaxValue;
    }

    private static int IndexOf(IReadOnlyList<EgressPath> paths, string id)
    {
        for (var i = 0; i < paths.Count; i++)
        {
            if (paths[i].Id == id)
            {
                return i;
            }
        }

        return int.MaxValue;
    }
}
