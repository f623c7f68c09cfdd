using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;
using EgressLab.LoadTests.Cli;
using EgressLab.LoadTests.Results;
using EgressLab.Provisioner.Lab;

namespace EgressLab.LoadTests.Tests.Compare;

/// <summary>
/// A short compare in the real network lab, run as a user runs it: every path, scenario and round must be in the
/// report, and the requests the load counted must equal the requests the lab's web server logged.
/// </summary>
public sealed class CompareEndToEndTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(15);

    [Fact]
    public async Task Compare_ShortRunInTheLab_WritesACompleteAndConsistentReport()
    {
        var unavailable = LabPrerequisites.Check();
        Requirements.SkipUnless(unavailable.Count == 0, $"the lab cannot run here: {string.Join("; ", unavailable)} (.ci/run runs as root and installs them)");
        RemoveStaleLabs();
        var id = Guid.NewGuid().ToString("N")[..6];
        var output = Path.Combine(Path.GetTempPath(), $"egress-compare-{id}");
        try
        {
            var (exit, log) = await RunAsync(id,
                ["compare", "--duration", "2s", "--warmup", "1s", "--rounds", "3", "--concurrency", "4", "--ladder", "20,40", "--ladder-step", "1s", "--with", "squid,tinyproxy", "--traffic", "2TB/month", "--out", output]);

            Assert.True(exit == 0, $"compare exited {exit}:\n{log}");
            var results = JsonSerializer.Deserialize<CompareResults>(await File.ReadAllTextAsync(Path.Combine(output, "results.json"), TestContext.Current.CancellationToken), ResultsJson.Options)!;

            Assert.Equal(["l3", "l4", "l4-natgw", "l7", "l7-squid", "l7-tinyproxy"], results.Paths.Select(p => p.Id));
            Assert.Equal(["L3", "L4", "L4", "L7", "L7", "L7"], results.Paths.Select(p => p.Layer));
            // What the internet saw: L3 the public host's own Elastic IP; the NAT gateway its own; L4 and every proxy the NAT instance's.
            Assert.StartsWith("203.0.113.11:", results.Paths[0].SeenSource, StringComparison.Ordinal);
            Assert.StartsWith("203.0.113.20:", results.Paths[2].SeenSource, StringComparison.Ordinal);
            Assert.All(results.Paths.Where(p => p.Id != "l3" && p.Id != "l4-natgw"), p => Assert.StartsWith("203.0.113.10:", p.SeenSource, StringComparison.Ordinal));
            Assert.Equal([false, false, false, true, true, true], results.Paths.Select(p => p.NewTcpConnection));
            Assert.Equal([false, false, false, true, true, true], results.Paths.Select(p => p.ApplicationAllowlist));

            // The NAT gateway probes ran on the paths without a proxy, with the lab gateway's lowered limits: only the
            // NAT gateway stops at its limit (while a second destination still opens) and resets an idle connection.
            Assert.Equal(new NatGatewayLimits(5, 100), results.NatGateway);
            var limits = results.Probes.Where(p => p.Limit is not null).ToDictionary(p => p.PathId, p => p.Limit!);
            var idles = results.Probes.Where(p => p.Idle is not null).ToDictionary(p => p.PathId, p => p.Idle!);
            Assert.Equal(["l3", "l4", "l4-natgw"], limits.Keys.Order(StringComparer.Ordinal));
            Assert.Equal((110, 100, true), (limits["l4-natgw"].Attempts, limits["l4-natgw"].Opened, limits["l4-natgw"].SecondDestinationOpened));
            Assert.All(["l3", "l4"], id => Assert.Equal(110, limits[id].Opened));
            Assert.Equal(IdleOutcome.Reset, idles["l4-natgw"].Outcome);
            Assert.All(["l3", "l4"], id => Assert.Equal(IdleOutcome.Answered, idles[id].Outcome));

            foreach (var path in results.Paths)
            {
                foreach (var scenario in CompareCommand.AllScenarios)
                {
                    var cells = results.Cells.Where(c => c.PathId == path.Id && c.Scenario == scenario).ToList();
                    Assert.Equal([1, 2, 3], cells.Select(c => c.Round));
                    Assert.All(cells, c =>
                    {
                        Assert.True(c.Result.Requests > 0, $"{scenario} on {path.Id} round {c.Round} measured no request");
                        if (!path.Id.StartsWith("l7-", StringComparison.Ordinal))
                        {
                            // The lab's own paths fail nothing; the incumbents' errors are theirs, and are reported.
                            Assert.Empty(c.Result.Errors);
                        }
                    });
                }

                // Both rates, unless the first saturated the path (on a busy machine, 20 requests/s in a 1 s step can
                // miss 95 % of its rate): the ladder stops at the first saturated step, and only there.
                var ladder = results.Ladders[path.Id];
                Assert.InRange(ladder.Count, 1, 2);
                Assert.All(ladder.SkipLast(1), step => Assert.False(step.Saturated, $"{path.Id}: the ladder went on past a saturated step"));
                Assert.True(ladder.Count == 2 || ladder[0].Saturated, $"{path.Id}: the ladder stopped after an unsaturated step");
            }

            Assert.All(results.Cells.Where(c => c.Scenario == "new-connection"), c => Assert.NotNull(c.Result.Phases));
            Assert.All(results.Accounting, a =>
            {
                Assert.True(a.Counted > 0, $"{a.PathId}: nothing counted");
                Assert.True(a.AddsUp, $"{a.PathId}: {a.Counted} succeeded, {a.Failed} failed, {a.Logged} logged");
                if (a.Failed == 0)
                {
                    Assert.Equal(a.Counted, a.Logged);
                }
            });
            Assert.All(results.Accounting.Where(a => !a.PathId.StartsWith("l7-", StringComparison.Ordinal)), a => Assert.Equal(0, a.Failed));
            Assert.Equal(results.Cells.Where(c => c.PathId == "l7").Sum(c => c.Result.SucceededIncludingWarmUp), results.Accounting.Single(a => a.PathId == "l7").Counted);

            var markdown = await File.ReadAllTextAsync(Path.Combine(output, "report.md"), TestContext.Current.CancellationToken);
            foreach (var name in results.Paths.Select(p => p.Id).Concat(CompareCommand.AllScenarios).Concat(["natgw-destination-limit", "natgw-idle-timeout", "AWS: 55,000"]))
            {
                Assert.Contains(name, markdown, StringComparison.Ordinal);
            }

            // --traffic reached the reports: the NAT instance path's hand-worked cost (see CostModelTests) in the verdict.
            Assert.Contains("## Monthly cost", markdown, StringComparison.Ordinal);
            Assert.Contains("| $191.88 |", markdown, StringComparison.Ordinal);

            var html = XDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "report.html"), TestContext.Current.CancellationToken));
            Assert.Contains(html.Descendants(), e => e.Name.LocalName == "svg" && (string?)e.Attribute("class") == "topology");
            Assert.Empty(LabNamespaces(id));
        }
        finally
        {
            // compare removes its lab itself (asserted above); this only clears what a killed or timed-out run left.
            LabOf(id).Down();
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Compare_BadArguments_Exit2BeforeTouchingTheLab()
    {
        var id = Guid.NewGuid().ToString("N")[..6];

        var (exit, log) = await RunAsync(id, ["compare", "--duration", "soon", "--scenarios", "http-small,video", "--rounds", "0", "--with", "squid,haproxy", "--ladder", "400,100", "--traffic", "lots", "--topology", "/nonexistent/topology.yaml"]);

        Assert.Equal(2, exit);
        Assert.Contains("--duration 'soon'", log, StringComparison.Ordinal);
        Assert.Contains("'video' is not a scenario", log, StringComparison.Ordinal);
        Assert.Contains("natgw-destination-limit, natgw-idle-timeout", log, StringComparison.Ordinal);
        Assert.Contains("--rounds '0'", log, StringComparison.Ordinal);
        Assert.Contains("'haproxy' is not a proxy compare can run", log, StringComparison.Ordinal);
        Assert.Contains("--ladder '400,100' is not a list of rising rates", log, StringComparison.Ordinal);
        Assert.Contains("--traffic 'lots' is not a monthly volume: use a number and a unit (GB, TB, GiB or TiB)", log, StringComparison.Ordinal);
        Assert.Contains("--topology /nonexistent/topology.yaml does not exist", log, StringComparison.Ordinal);
        Assert.Empty(LabNamespaces(id));
    }

    /// <summary>The prefix family of this test's labs: each run's lab is <c>elcmp-</c> and an id of its own.</summary>
    private const string Family = "elcmp";

    /// <summary>A run's own lab, so a lab a user has up is never touched.</summary>
    private static LabEnvironment LabEnvironmentOf(string id) => new($"{Family}-{id}", StateDirectoryOf(id));

    private static string StateDirectoryOf(string id) => Path.Combine("/run", $"egress-lab-compare-{id}");

    private static LabController LabOf(string id) => new(LabEnvironmentOf(id), TextWriter.Null, commandLog: null);

    /// <summary>
    /// Removes the labs of earlier runs of this test that were killed before they could remove them (a test host that
    /// was stopped): those older than twice the timeout, after which their own run has given up on them.
    /// </summary>
    private static void RemoveStaleLabs() =>
        StaleLabs.Remove(Family, StateDirectoryOf, 2 * Timeout, TextWriter.Null);

    private static IEnumerable<string> LabNamespaces(string id) =>
        Directory.Exists("/run/netns")
            ? Directory.GetFiles("/run/netns").Select(f => Path.GetFileName(f)).Where(n => n.StartsWith($"{Family}-{id}", StringComparison.Ordinal))
            : [];

    private static async Task<(int Exit, string Output)> RunAsync(string id, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(LabPrerequisites.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "LoadTests.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var lab = LabEnvironmentOf(id);
        start.Environment["EGRESS_LAB_PREFIX"] = lab.Prefix;
        start.Environment["EGRESS_LAB_STATE_DIR"] = lab.StateDirectory;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // The caller's finally removes the lab the killed run leaves.
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
