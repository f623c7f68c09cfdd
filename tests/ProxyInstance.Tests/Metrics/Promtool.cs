using EgressLab.ProxyInstance.Tests.Deploy;

namespace EgressLab.ProxyInstance.Tests.Metrics;

/// <summary>Prometheus's own checker (Debian's <c>prometheus</c> package), run on what the proxy and deploy/ really hold.</summary>
internal static class Promtool
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>The path of <c>promtool</c>; skips the test, or fails it under EGRESS_LAB_REQUIRE_ALL=1, when there is none.</summary>
    public static string Require()
    {
        var path = Requirements.FindOnPath("promtool");
        Requirements.SkipUnless(path is not null, "promtool is not installed (apt-get install prometheus)");
        return path!;
    }

    /// <summary><c>promtool check metrics</c> on an exposition: it must parse and pass Prometheus's lint.</summary>
    public static Task<CommandResult> CheckMetricsAsync(string exposition, CancellationToken cancellationToken) =>
        ExternalCommand.RunAsync(Require(), ["check", "metrics"], Timeout, cancellationToken, standardInput: exposition);

    /// <summary>Runs <c>promtool</c> with <paramref name="arguments"/> from <paramref name="workingDirectory"/>.</summary>
    public static Task<CommandResult> RunAsync(IEnumerable<string> arguments, string workingDirectory, CancellationToken cancellationToken) =>
        ExternalCommand.RunAsync(Require(), arguments, Timeout, cancellationToken, workingDirectory: workingDirectory);
}
