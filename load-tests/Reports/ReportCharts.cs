using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Reports;

/// <summary>The charts of report.html, one series per path in the order the paths are given.</summary>
internal static class ReportCharts
{
    /// <summary>Scenarios whose point is throughput: they get a throughput-over-time chart.</summary>
    public static readonly IReadOnlyList<string> ThroughputScenarios = ["bulk", "upload"];

    public static string SeriesLabel(EgressPath path) => $"{path.Id} ({path.Layer}) {path.Title}";

    /// <summary>Latency by percentile, every round of a path merged into one histogram.</summary>
    public static SvgChart Spectrum(ScenarioSection section) => new(
        $"{section.Scenario}: latency by percentile",
        new ChartAxis("percentile (log scale of 1/(1−p))", AxisScale.Percentile),
        new ChartAxis("latency (ms, log scale)", AxisScale.Logarithmic),
        section.Paths
            .Select(p => new ChartSeries(p.Path.Id, SeriesLabel(p.Path), CompareSummary.Spectrum(CompareSummary.Merge(p.Rounds.Select(r => r.CorrectedHistogram)))))
            .ToList())
    {
        Note = "Corrected latency; each path's rounds merged. The right-hand end is the rarest request the sample can show.",
    };

    /// <summary>p99 against offered rate from the rate ladders; hollow markers are saturated steps.</summary>
    public static SvgChart Ladder(CompareSummary summary) => new(
        "http-small: p99 latency against offered rate",
        // Ladder steps usually double, so a log axis spaces them evenly.
        new ChartAxis("offered rate (req/s, log scale)", AxisScale.Logarithmic),
        new ChartAxis("p99 latency (ms, log scale)", AxisScale.Logarithmic),
        summary.Results.Paths
            .Select(p => new ChartSeries(p.Id, SeriesLabel(p), summary.Ladder(p.Id).Select(s => new ChartPoint(s.OfferedRate, s.P99Ms, s.Saturated)).ToList()) { Markers = true })
            .ToList())
    {
        Note = "One marker per step of the rate ladder; a ring marks a saturated step.",
        EmptyMessage = ReportTables.NoLadder,
    };

    /// <summary>MB/s (down and up) for each second of the measured window, the mean of the rounds.</summary>
    public static SvgChart Throughput(ScenarioSection section) => new(
        $"{section.Scenario}: throughput over time",
        new ChartAxis("time in the measured window (s)"),
        new ChartAxis("throughput (MB/s, down + up)"),
        section.Paths
            .Select(p => new ChartSeries(p.Path.Id, SeriesLabel(p.Path), CompareSummary.ThroughputOverTime(p.Rounds)))
            .ToList())
    {
        Note = "Bytes per second of the measured window after warm-up; for each second, the mean of the rounds.",
    };
}
