using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Bench;

/// <summary>Who served a load cell: the proxy instance, Squid, or nobody (the origin, directly).</summary>
internal static class BenchSubjects
{
    public const string Proxy = "proxy";
    public const string Squid = "squid";
    public const string Direct = "direct";

    public static IReadOnlyList<string> All { get; } = [Proxy, Squid, Direct];
}

/// <summary>One load cell: one figure, one subject, one round.</summary>
/// <param name="Value">The figure's measure: requests/s, MB/s or tunnels/s.</param>
/// <param name="P99Milliseconds">The 99th percentile latency, where the figure has one.</param>
/// <param name="Errors">Failed requests; a cell with any makes the figure invalid.</param>
/// <param name="ServerCpuMicroseconds">CPU time (user and system) the proxy process spent per request or tunnel in the cell;
/// null for the direct subject.</param>
/// <param name="AllocatedBytes">Bytes the proxy instance allocated on its managed heap per request or tunnel in the cell, from its
/// <c>/metrics</c>; null for Squid and the direct subject.</param>
internal sealed record BenchCell(string Figure, string Subject, int Round, double Value, double? P99Milliseconds, long Requests, long Errors, string? ErrorDetail,
    double? ServerCpuMicroseconds = null, double? AllocatedBytes = null);

/// <summary>One line of the table: the medians across rounds, the ratio the target is about, and whether it is met.</summary>
/// <param name="Reference">The subject the ratio divides by (squid or direct); null for an absolute target.</param>
/// <param name="Met">Null when the figure could not be judged (a subject missing, or errors).</param>
internal sealed record BenchRow(string Figure, string Title, string Unit, double? Proxy, double? Squid, double? Direct,
    string? Reference, double? Ratio, string Target, bool? Met, string? Note);

/// <summary>The settings a bench ran with, so that its JSON says how its figures were taken.</summary>
/// <param name="LargeUploadCellDurationSeconds">How long the 100 MiB upload cells lasted: as long as the others, except in a quick run
/// (<see cref="BenchOptions.CellDurationOf"/>).</param>
internal sealed record BenchSettings(double CellDurationSeconds, double WarmUpSeconds, int Rounds, int SmallConnections, int BulkConnections,
    int NewTunnelUsers, int IdleTunnelsRequested, double IdleHoldSeconds, bool Optimized, string Squid, string Nginx, string Wrk,
    double LargeUploadCellDurationSeconds);

/// <summary>Everything one <c>bench</c> run found, as written to bench.json.</summary>
internal sealed record BenchResults
{
    public required RunEnvironment Environment { get; init; }
    public required BenchSettings Settings { get; init; }
    public required IReadOnlyList<BenchRow> Rows { get; init; }
    public required IReadOnlyList<BenchCell> Cells { get; init; }
    public IdleTunnelsResult? IdleTunnels { get; init; }
    public MicroBenchmarkResult? PolicyDecision { get; init; }

    /// <summary>Why a figure could not be measured, by figure.</summary>
    public IReadOnlyDictionary<string, string> Failures { get; init; } = new Dictionary<string, string>();
}
