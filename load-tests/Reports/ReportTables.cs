using EgressLab.LoadTests.Results;
using F = EgressLab.LoadTests.Reports.ReportFormat;

namespace EgressLab.LoadTests.Reports;

/// <summary>A column of a report table; <paramref name="Key"/> names it in the HTML (data-column).</summary>
internal sealed record ReportColumn(string Key, string Header, bool Numeric = false);

/// <summary>A row; <paramref name="Key"/> is usually the path id (data-path in the HTML). A flagged row is one a
/// reader must not miss, such as request counts that do not add up.</summary>
internal sealed record ReportRow(string Key, IReadOnlyList<string> Cells)
{
    public bool Flagged { get; init; }

    /// <summary>A row that sums up the rows above it, such as a design's monthly total.</summary>
    public bool Total { get; init; }
}

internal sealed record ReportTable(IReadOnlyList<ReportColumn> Columns, IReadOnlyList<ReportRow> Rows);

/// <summary>
/// The tables and sentences of a report as plain text, built once so that report.md and report.html say the same
/// thing with the same numbers; the renderers only add markup.
/// </summary>
internal static class ReportTables
{
    public const string Title = "Egress paths compared";

    public static readonly IReadOnlyList<string> HowToRead =
    [
        "Latency is corrected unless a column says otherwise: it is measured from the moment a request was due under "
        + "the open model (requests arrive at a constant rate whether or not earlier ones have finished), so a stall "
        + "counts against every request queued behind it, which is what a user would have waited. The uncorrected p99 "
        + "is measured from when a request was actually sent, as naive tools do; a large gap between the two means the "
        + "path, or the load generator, fell behind (coordinated omission). Late and dropped sends are listed under a "
        + "table when there were any.",
        "Every figure is the median across rounds, with the lowest and highest round in brackets; a difference between "
        + "paths smaller than that spread is noise. Rounds are interleaved (each round runs every path once), so a slow "
        + "minute of the host affects all paths alike. \"vs L3\" divides a path's median by the L3 path's in the same "
        + "scenario: above 1× for latency means slower than L3, below 1× for MB/s means less throughput. For bulk and "
        + "upload, MB/s matters most; for the small requests, the percentiles.",
    ];

    private static readonly Dictionary<string, string> ScenarioDescriptions = new(StringComparer.Ordinal)
    {
        ["http-small"] = "Small responses over plain HTTP.",
        ["https-small"] = "Small responses over HTTPS.",
        ["new-connection"] = "A new TCP (and TLS) connection for every request.",
        ["bulk"] = "Large downloads: MB/s matters most.",
        ["upload"] = "Large uploads: MB/s matters most.",
    };

    public static string Introduction(CompareSummary summary)
    {
        var results = summary.Results;
        var rounds = results.Rounds == 1 ? "1 round" : $"{F.Count(results.Rounds)} rounds";
        var paths = string.Join(", ", results.Paths.Select(p => $"{p.Id} ({p.Layer})"));
        return $"Paths: {paths}. {rounds}, each running every scenario on every path once; "
            + $"{F.Seconds(results.CellDurationSeconds)} per cell. Started {F.Timestamp(results.Environment.StartedAt)}.";
    }

    public static string PathLabel(EgressPath path) => $"{path.Id} ({path.Layer})";

    public static ReportTable Paths(CompareSummary summary) => new(
        [
            new("path", "Path"), new("title", "Title"), new("layer", "Layer"), new("client", "Client"),
            new("seen-source", "Server saw (checkip)"), new("new-tcp-connection", "New TCP connection"),
            new("allowlist", "Allowlist by host name"),
        ],
        summary.Results.Paths
            .Select(p => new ReportRow(p.Id, [p.Id, p.Title, p.Layer, p.Client, p.SeenSource, F.YesNo(p.NewTcpConnection), F.YesNo(p.ApplicationAllowlist)]))
            .ToList());

    public static string ScenarioDescription(ScenarioSection section)
    {
        var sample = section.Sample;
        var load = sample.Model == LoadModel.Open
            ? $"Open model: {(sample.OfferedRate is { } rate ? F.Rate(rate) : F.Missing)} req/s offered, at most {F.Count(sample.Concurrency)} in flight"
            : $"Closed model: {F.Count(sample.Concurrency)} concurrent users";
        var what = ScenarioDescriptions.TryGetValue(section.Scenario, out var text) ? text + " " : "";
        return $"{what}{load}; {F.Seconds(sample.DurationSeconds)} measured after {F.Seconds(sample.WarmUpSeconds)} of warm-up.";
    }

    public static ReportTable Scenario(CompareSummary summary, ScenarioSection section)
    {
        var columns = new ReportColumn[]
        {
            new("path", "Path"), new("p50", "p50 ms", true), new("p90", "p90 ms", true), new("p99", "p99 ms", true),
            new("p99.9", "p99.9 ms", true), new("p99-uncorrected", "p99 uncorrected ms", true),
            new("rate", "req/s", true), new("mbps", "MB/s", true), new("errors", "errors", true),
            new("p50-vs-l3", "p50 vs L3", true), new("p99-vs-l3", "p99 vs L3", true), new("mbps-vs-l3", "MB/s vs L3", true),
        };
        var rows = section.Paths.Select(p => p.Figures is not { } f
            ? new ReportRow(p.Path.Id, [PathLabel(p.Path), "not measured", .. Enumerable.Repeat(F.Missing, columns.Length - 2)])
            : new ReportRow(p.Path.Id,
            [
                PathLabel(p.Path),
                F.Spread(f.P50, F.Milliseconds),
                F.Spread(f.P90, F.Milliseconds),
                F.Spread(f.P99, F.Milliseconds),
                F.Spread(f.P999, F.Milliseconds),
                F.Spread(f.P99Uncorrected, F.Milliseconds),
                F.Spread(f.AchievedRate, F.Rate),
                F.Spread(f.ThroughputMBps, F.Throughput),
                f.Errors == 0 ? "0" : $"{F.Count(f.Errors)} ({F.Percent(f.Requests == 0 ? double.NaN : (double)f.Errors / f.Requests)})",
                F.Ratio(p.P50VsBaseline),
                F.Ratio(p.P99VsBaseline),
                F.Ratio(p.ThroughputVsBaseline),
            ]));
        return new ReportTable(columns, rows.ToList());
    }

    /// <summary>What a scenario's table cannot show: errors by class, late and dropped sends, no L3 path.</summary>
    public static IReadOnlyList<string> ScenarioNotes(CompareSummary summary, ScenarioSection section)
    {
        var notes = new List<string>();
        foreach (var path in section.Paths)
        {
            if (path.Figures is not { } f)
            {
                continue;
            }

            if (f.ErrorsByClass.Count > 0)
            {
                notes.Add($"{path.Path.Id} errors by class: {string.Join(", ", f.ErrorsByClass.Select(e => $"{e.Key} {F.Count(e.Value)}"))}.");
            }

            if (f.LateSends > 0 || f.DroppedSends > 0)
            {
                notes.Add($"{path.Path.Id}: {F.Count(f.LateSends)} late and {F.Count(f.DroppedSends)} dropped sends over all rounds (the generator could not keep the offered rate).");
            }
        }

        if (summary.Baseline is null)
        {
            notes.Add("No path has layer L3, so there is no overhead relative to L3.");
        }
        else if (section.Paths.First(p => p.Path == summary.Baseline).Figures is null)
        {
            notes.Add($"The L3 path ({summary.Baseline.Id}) was not measured in this scenario, so there is no overhead relative to L3.");
        }

        return notes;
    }

    public static string PhasesDescription =>
        "Median across rounds of each phase's p50, in ms. A dash: the path has no such phase (only a proxy answers CONNECT).";

    public static ReportTable Phases(ScenarioSection section) => new(
        [new ReportColumn("path", "Path"), .. section.Phases.Select(p => new ReportColumn(p, p + " ms", true))],
        section.Paths
            .Select(p => new ReportRow(p.Path.Id, [PathLabel(p.Path), .. section.Phases.Select(phase => CompareSummary.PhaseMedian(p, phase) is { } v ? F.Milliseconds(v) : F.Missing)]))
            .ToList());

    public static bool HasLadders(CompareSummary summary) => summary.Results.Paths.Any(p => summary.Ladder(p.Id).Count > 0);

    public const string LadderDescription =
        "A rate ladder of http-small: each step offers a higher rate for a while. The knee is the last step that was not saturated.";

    public const string NoLadder = "no rate ladder was run";

    public static ReportTable Ladder(CompareSummary summary) => new(
        [
            new("path", "Path"), new("offered", "offered req/s", true), new("achieved", "achieved req/s", true),
            new("p99", "p99 ms", true), new("error-rate", "error rate", true), new("saturated", "saturated"),
        ],
        summary.Results.Paths
            .SelectMany(p => summary.Ladder(p.Id).Select(s => new ReportRow(p.Id,
            [
                PathLabel(p), F.Rate(s.OfferedRate), F.Rate(s.AchievedRate), F.Milliseconds(s.P99Ms), F.Percent(s.ErrorRate), F.YesNo(s.Saturated),
            ])))
            .ToList());

    public static string Knees(CompareSummary summary)
    {
        var knees = summary.Results.Paths
            .Where(p => summary.Ladder(p.Id).Count > 0)
            .Select(p => summary.Ladder(p.Id).LastOrDefault(s => !s.Saturated) is { } knee
                ? $"{p.Id} {F.Rate(knee.OfferedRate)} req/s (p99 {F.Milliseconds(knee.P99Ms)} ms)"
                : $"{p.Id} saturated from the first step");
        return $"Knee: {string.Join("; ", knees)}.";
    }

    public static string AccountingSummary(CompareSummary summary)
    {
        if (summary.Accounting.Count == 0)
        {
            return "No request accounting was recorded: the counts could not be checked against the web server's log.";
        }

        var mismatched = summary.Accounting.Where(a => !a.Matches).Select(a => a.PathId).ToList();
        return mismatched.Count == 0
            ? "Every request that succeeded was logged by the lab's web server, and nothing more than the requests that failed on the way (which may or may not have reached it)."
            : $"The counts do not add up for {string.Join(", ", mismatched)}: treat that path's numbers with care, and look for requests lost or retried on the way.";
    }

    public static ReportTable Accounting(CompareSummary summary) => new(
        [new("path", "Path"), new("counted", "succeeded", true), new("failed", "failed", true), new("logged", "logged", true), new("difference", "succeeded − logged", true), new("status", "check")],
        summary.Accounting
            .Select(a => new ReportRow(a.PathId,
            [
                a.PathId, F.Count(a.Counted), F.Count(a.Failed), F.Count(a.Logged),
                a.Difference > 0 ? "+" + F.Count(a.Difference) : F.Count(a.Difference),
                a.Matches ? "ok" : "MISMATCH",
            ]) { Flagged = !a.Matches })
            .ToList());

    public static IReadOnlyList<(string Label, string Value)> Environment(CompareSummary summary)
    {
        var environment = summary.Results.Environment;
        return
        [
            ("Kernel", environment.Kernel),
            (".NET", environment.DotNet),
            ("CPUs", F.Count(environment.ProcessorCount)),
            ("Commit", environment.Commit ?? "unknown"),
            ("Started", F.Timestamp(environment.StartedAt)),
            ("Rounds", F.Count(summary.Results.Rounds)),
            ("Cell duration", F.Seconds(summary.Results.CellDurationSeconds)),
        ];
    }
}
