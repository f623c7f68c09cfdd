using System.Globalization;
using System.Text;

namespace EgressLab.LoadTests.Bench;

/// <summary>
/// Turns the cells into the table's rows (medians across rounds, the ratio each target is about, met or not) and
/// renders them as text for the terminal and as Markdown for the README.
/// </summary>
internal static class BenchTable
{
    /// <summary>Growth over the hold, per tunnel, that still counts as flat.</summary>
    public const double FlatGrowthBytesPerTunnel = 2 * 1024;

    public const double IdleBudgetBytesPerTunnel = 16 * 1024;
    public const double PolicyBudgetNanoseconds = 2_000;

    public static IReadOnlyList<BenchRow> Rows(IReadOnlyList<BenchCell> cells, IdleTunnelsResult? idle, MicroBenchmarkResult? policy,
        IReadOnlyDictionary<string, string> failures)
    {
        ArgumentNullException.ThrowIfNull(cells);
        ArgumentNullException.ThrowIfNull(failures);
        var rows = new List<BenchRow>();
        AddLoad(rows, cells, failures, BenchFigures.Http1k, $"plain HTTP keep-alive, 1 KiB, {BenchOptions.SmallConnections} connections", "req/s",
            c => c.Value, BenchSubjects.Squid, 2.0, atLeast: true);
        AddLoad(rows, cells, failures, BenchFigures.Http1k, "  its p99 latency", "ms", c => c.P99Milliseconds, BenchSubjects.Squid, 1.0, atLeast: false);
        AddCpu(rows, cells, BenchFigures.Http1k, "  proxy CPU per request", "µs");
        AddAllocated(rows, cells, BenchFigures.Http1k, "  proxy allocated per request", "B");
        AddLoad(rows, cells, failures, BenchFigures.Http10m, $"plain HTTP, 10 MiB objects, {BenchOptions.BulkConnections} connections", "MB/s",
            c => c.Value, BenchSubjects.Squid, 1.5, atLeast: true);
        AddLoad(rows, cells, failures, BenchFigures.Https10m, $"HTTPS through CONNECT, 10 MiB objects, {BenchOptions.BulkConnections} connections", "MB/s",
            c => c.Value, BenchSubjects.Direct, 0.95, atLeast: true);
        AddCpu(rows, cells, BenchFigures.Https10m, "  proxy CPU per 10 MiB object", "µs");
        foreach (var upload in BenchFigures.Uploads)
        {
            var size = BenchFigures.UploadBytes(upload) >= 100 * 1024 * 1024 ? "100 MiB" : "1 MiB";
            var way = upload is BenchFigures.HttpUpload1m or BenchFigures.HttpUpload100m ? "plain HTTP" : "HTTPS through CONNECT";
            AddLoad(rows, cells, failures, upload, $"upload, {size} POSTs, {way}, {BenchOptions.UploadConnections} connections", "MB/s",
                c => c.Value, BenchSubjects.Direct, 0.9, atLeast: true);
            AddLoad(rows, cells, failures, upload, "  against Squid", "MB/s", c => c.Value, BenchSubjects.Squid, 1.0, atLeast: true);
        }

        // The rate of new tunnels is bound by the load generator and the TLS handshakes on this machine's two cores; the
        // proxy's own cost is its CPU per tunnel, judged against Squid's.
        AddLoad(rows, cells, failures, BenchFigures.NewTunnels, $"new tunnels (CONNECT, 200, TLS, GET, close), {BenchOptions.NewTunnelUsers} users", "/s",
            c => c.Value, BenchSubjects.Squid, 1.0, atLeast: true);
        AddLoad(rows, cells, failures, BenchFigures.NewTunnels, "  proxy CPU per tunnel", "µs", c => c.ServerCpuMicroseconds, BenchSubjects.Squid, 0.67, atLeast: false);
        AddAllocated(rows, cells, BenchFigures.NewTunnels, "  proxy allocated per tunnel", "B");
        if (idle is not null)
        {
            var count = idle.Opened.ToString("N0", CultureInfo.InvariantCulture);
            var perTunnel = idle.BytesPerTunnel / 1024;
            rows.Add(new BenchRow(BenchFigures.IdleTunnels, $"{count} idle tunnels: memory above idle baseline", "KiB/tunnel", perTunnel, null, null, null, null,
                "≤ 16 KiB", idle.Opened > 0 && idle.Verified == idle.Opened ? idle.BytesPerTunnel <= IdleBudgetBytesPerTunnel : null, IdleNote(idle)));
            var growth = idle.HoldGrowthBytesPerTunnel / 1024;
            rows.Add(new BenchRow(BenchFigures.IdleTunnels, string.Create(CultureInfo.InvariantCulture, $"  growth over the {(idle.HoldSamples.Count == 0 ? 0 : idle.HoldSamples[^1].Seconds):0} s hold"),
                "KiB/tunnel", growth, null, null, null, null, "flat: ≤ 2 KiB", idle.Opened > 0 ? idle.HoldGrowthBytesPerTunnel <= FlatGrowthBytesPerTunnel : null, null));
        }
        else if (failures.TryGetValue(BenchFigures.IdleTunnels, out var idleFailure))
        {
            rows.Add(new BenchRow(BenchFigures.IdleTunnels, "idle tunnels: memory above idle baseline", "KiB/tunnel", null, null, null, null, null, "≤ 16 KiB", null, idleFailure));
        }

        if (policy is not null)
        {
            rows.Add(new BenchRow(BenchFigures.PolicyDecision, "policy decision, 10,000-domain allowlist", "ns", policy.MeanNanoseconds, null, null, null, null,
                "≤ 2,000 ns", policy.Optimized ? policy.MeanNanoseconds <= PolicyBudgetNanoseconds : null,
                string.Create(CultureInfo.InvariantCulture, $"± {policy.ErrorNanoseconds:0.#} ns (99.9 %), {policy.AllocatedBytesPerOperation:0.#} B allocated per decision{(policy.Optimized ? "" : "; not an optimised build")}")));
        }
        else if (failures.TryGetValue(BenchFigures.PolicyDecision, out var policyFailure))
        {
            rows.Add(new BenchRow(BenchFigures.PolicyDecision, "policy decision, 10,000-domain allowlist", "ns", null, null, null, null, null, "≤ 2,000 ns", null, policyFailure));
        }

        return rows;
    }

    private static string? IdleNote(IdleTunnelsResult idle)
    {
        var notes = new List<string>();
        if (idle.LimitNote is { } limit)
        {
            notes.Add(limit);
        }

        if (idle.OpenFailureNote is { } open)
        {
            notes.Add(open);
        }

        if (idle.VerifyFailureNote is { } verify)
        {
            notes.Add(verify);
        }

        return notes.Count == 0 ? null : string.Join("; ", notes);
    }

    private static void AddLoad(List<BenchRow> rows, IReadOnlyList<BenchCell> cells, IReadOnlyDictionary<string, string> failures, string figure,
        string title, string unit, Func<BenchCell, double?> measure, string reference, double target, bool atLeast)
    {
        var mine = cells.Where(c => c.Figure == figure).ToList();
        if (mine.Count == 0)
        {
            if (failures.TryGetValue(figure, out var failure) && !title.StartsWith(' '))
            {
                rows.Add(new BenchRow(figure, title, unit, null, null, null, reference, null, TargetText(reference, target, atLeast), null, failure));
            }

            return;
        }

        var proxy = Median(mine, figure, BenchSubjects.Proxy, measure);
        var squid = Median(mine, figure, BenchSubjects.Squid, measure);
        var direct = Median(mine, figure, BenchSubjects.Direct, measure);
        var denominator = reference == BenchSubjects.Squid ? squid : direct;
        double? ratio = proxy is { } p && denominator is { } d && d > 0 ? p / d : null;
        var errors = mine.Where(c => c.Errors > 0).ToList();
        string? note = null;
        bool? met = ratio is { } r ? (atLeast ? r >= target : r <= target) : null;
        if (errors.Count > 0)
        {
            note = string.Join("; ", errors.GroupBy(c => c.Subject).Select(g =>
                string.Create(CultureInfo.InvariantCulture, $"{g.Key}: {g.Sum(c => c.Errors):N0} errors ({g.First().ErrorDetail})")));
            met = null;
        }
        else if (failures.TryGetValue(figure, out var failure))
        {
            note = failure;
            met = null;
        }

        rows.Add(new BenchRow(figure, title, unit, proxy, squid, direct, reference, ratio, TargetText(reference, target, atLeast), met, note));
    }

    /// <summary>An informational line: the CPU time each proxy process spent per request, the cost under the rates.</summary>
    private static void AddCpu(List<BenchRow> rows, IReadOnlyList<BenchCell> cells, string figure, string title, string unit)
    {
        var proxy = Median(cells, figure, BenchSubjects.Proxy, c => c.ServerCpuMicroseconds);
        var squid = Median(cells, figure, BenchSubjects.Squid, c => c.ServerCpuMicroseconds);
        if (proxy is null && squid is null)
        {
            return;
        }

        rows.Add(new BenchRow(figure, title, unit, proxy, squid, null, BenchSubjects.Squid, proxy is { } p && squid is { } s && s > 0 ? p / s : null, "", null, null));
    }

    /// <summary>An informational line: what the proxy instance allocated per request, which sets how often it collects garbage.</summary>
    private static void AddAllocated(List<BenchRow> rows, IReadOnlyList<BenchCell> cells, string figure, string title, string unit)
    {
        if (Median(cells, figure, BenchSubjects.Proxy, c => c.AllocatedBytes) is { } proxy)
        {
            rows.Add(new BenchRow(figure, title, unit, proxy, null, null, null, null, "", null, null));
        }
    }

    private static double? Median(IReadOnlyList<BenchCell> cells, string figure, string subject, Func<BenchCell, double?> measure)
    {
        var values = cells.Where(c => c.Figure == figure && c.Subject == subject).Select(measure).OfType<double>().Order().ToList();
        return values.Count == 0 ? null : values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
    }

    private static string TargetText(string reference, double target, bool atLeast)
    {
        var name = reference == BenchSubjects.Squid ? "Squid" : "direct";
        return atLeast
            ? string.Create(CultureInfo.InvariantCulture, $"≥ {target:0.##} × {name}")
            : target == 1.0 ? $"≤ {name}" : string.Create(CultureInfo.InvariantCulture, $"≤ {target:0.##} × {name}");
    }

    private static string Value(double? value) => value switch
    {
        null => "–",
        >= 100 => value.Value.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => value.Value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.Value.ToString("0.00", CultureInfo.InvariantCulture),
    };

    private static string RatioText(BenchRow row) => row.Ratio is { } ratio
        ? string.Create(CultureInfo.InvariantCulture, $"{ratio:0.00} × {(row.Reference == BenchSubjects.Squid ? "Squid" : "direct")}")
        : "–";

    private static string Verdict(BenchRow row) => row.Target.Length == 0 ? "" : row.Met switch
    {
        true => "met",
        false => "missed",
        null => "not judged",
    };

    private static readonly string[] Header = ["figure", "unit", "proxy", "Squid", "direct", "ratio", "target", ""];

    private static string[] Cells(BenchRow row) =>
        [row.Title, row.Unit, Value(row.Proxy), Value(row.Squid), Value(row.Direct), RatioText(row), row.Target, Verdict(row)];

    /// <summary>An aligned plain-text table, with each row's note under it.</summary>
    public static string Text(IReadOnlyList<BenchRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var table = rows.Select(Cells).Prepend(Header).ToList();
        var widths = Enumerable.Range(0, Header.Length).Select(i => table.Max(r => r[i].Length)).ToArray();
        var text = new StringBuilder();
        for (var r = 0; r < table.Count; r++)
        {
            var cells = table[r];
            for (var i = 0; i < cells.Length; i++)
            {
                // Words left-aligned, numbers right-aligned.
                var padded = i is >= 2 and <= 4 ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]);
                text.Append(padded).Append(i == cells.Length - 1 ? "" : "  ");
            }

            TrimEnd(text).Append('\n');
            if (r > 0 && rows[r - 1].Note is { } note)
            {
                text.Append("    ").Append(note).Append('\n');
            }
        }

        return text.ToString();
    }

    private static StringBuilder TrimEnd(StringBuilder text)
    {
        while (text.Length > 0 && text[^1] == ' ')
        {
            text.Length--;
        }

        return text;
    }

    /// <summary>The same table in Markdown, notes in the last column.</summary>
    public static string Markdown(IReadOnlyList<BenchRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder();
        text.Append("| figure | unit | proxy | Squid | direct | ratio | target | | note |\n");
        text.Append("|---|---|--:|--:|--:|---|---|---|---|\n");
        foreach (var row in rows)
        {
            var cells = Cells(row);
            cells[0] = cells[0].StartsWith("  ", StringComparison.Ordinal) ? "↳ " + cells[0].TrimStart() : cells[0];
            text.Append("| ").Append(string.Join(" | ", cells.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))))
                .Append(" | ").Append(row.Note?.Replace("|", "\\|", StringComparison.Ordinal) ?? "").Append(" |\n");
        }

        return text.ToString();
    }
}
