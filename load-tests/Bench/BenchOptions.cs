namespace EgressLab.LoadTests.Bench;

/// <summary>The figures <c>bench</c> can measure, in the order it measures and prints them.</summary>
internal static class BenchFigures
{
    public const string Http1k = "http-1k";
    public const string Http10m = "http-10m";
    public const string Https10m = "https-10m";
    public const string HttpUpload1m = "http-upload-1m";
    public const string HttpUpload100m = "http-upload-100m";
    public const string HttpsUpload1m = "https-upload-1m";
    public const string HttpsUpload100m = "https-upload-100m";
    public const string NewTunnels = "new-tunnels";
    public const string IdleTunnels = "idle-tunnels";
    public const string PolicyDecision = "policy";

    public static IReadOnlyList<string> All { get; } =
        [Http1k, Http10m, Https10m, HttpUpload1m, HttpUpload100m, HttpsUpload1m, HttpsUpload100m, NewTunnels, IdleTunnels, PolicyDecision];

    /// <summary>The upload figures: POSTs of 1 MiB or 100 MiB to the origin's /upload, which answers once it has read the
    /// whole body; over plain HTTP or in a tunnel over TLS.</summary>
    public static IReadOnlyList<string> Uploads { get; } = [HttpUpload1m, HttpUpload100m, HttpsUpload1m, HttpsUpload100m];

    /// <summary>The body size of an upload figure.</summary>
    public static int UploadBytes(string figure) => figure is HttpUpload100m or HttpsUpload100m ? 100 * 1024 * 1024 : 1024 * 1024;
}

/// <summary>What one <c>bench</c> run measures, and how long each cell lasts.</summary>
/// <param name="Figures">Which figures, from <see cref="BenchFigures.All"/>, in canonical order.</param>
/// <param name="CellDuration">Measured time of each load cell (one subject, one figure, one round).</param>
/// <param name="WarmUp">Load before each cell, left out of it.</param>
/// <param name="Rounds">Rounds; each runs every load figure on every subject once, and the table shows medians.</param>
/// <param name="IdleTunnels">Tunnels to hold open for the memory figure.</param>
/// <param name="IdleHold">How long to hold them, sampling the proxy's memory.</param>
/// <param name="OutDirectory">Where bench.json and bench.md go.</param>
/// <param name="DebugBuild">Measure an unoptimised build as it is (to check the bench itself), instead of building Release.</param>
/// <param name="Quick">Short everything, to check that the bench works; its figures are not for comparison.</param>
/// <param name="CommandLine">The command as typed, for the results.</param>
internal sealed record BenchOptions(
    IReadOnlyList<string> Figures,
    TimeSpan CellDuration,
    TimeSpan WarmUp,
    int Rounds,
    int IdleTunnels,
    TimeSpan IdleHold,
    string OutDirectory,
    bool DebugBuild,
    bool Quick,
    string CommandLine)
{
    /// <summary>Connections of the plain keep-alive 1 KiB figure (the 32) and of both 10 MiB figures.</summary>
    public const int SmallConnections = 32;

    public const int BulkConnections = 4;

    /// <summary>Users of the upload figures, each with a connection of its own.</summary>
    public const int UploadConnections = 4;

    /// <summary>
    /// The shortest cell of a 100 MiB upload figure in a quick run. A 1 s cell holds at most one or two such uploads per
    /// user even on a quiet machine, and none when the machine is busy (a test run shares it with other test
    /// projects), and a cell that completes no request has measured nothing.
    /// </summary>
    public static readonly TimeSpan QuickLargeUploadCell = TimeSpan.FromSeconds(5);

    /// <summary>The measured time of <paramref name="figure"/>'s cells: <see cref="CellDuration"/>, except that a quick
    /// run gives the 100 MiB uploads at least <see cref="QuickLargeUploadCell"/>.</summary>
    public TimeSpan CellDurationOf(string figure) =>
        Quick && figure is BenchFigures.HttpUpload100m or BenchFigures.HttpsUpload100m && CellDuration < QuickLargeUploadCell
            ? QuickLargeUploadCell
            : CellDuration;

    /// <summary>Users opening new tunnels at once.</summary>
    public const int NewTunnelUsers = 16;

    public bool Includes(string figure) => Figures.Contains(figure);
}
