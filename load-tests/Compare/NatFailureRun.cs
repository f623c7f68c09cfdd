using System.Diagnostics;
using System.Globalization;
using EgressLab.LoadTests.Measurement;
using EgressLab.LoadTests.Results;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Processes;

namespace EgressLab.LoadTests.Compare;

/// <summary>How compare's NAT failure run goes: bounded in time and in connections.</summary>
/// <param name="Mode">How the NAT is failed (<c>lab fail nat --mode</c>).</param>
/// <param name="Timing">How long until the NAT forwards again: the lab's asg-eni failover delays.</param>
internal sealed record NatFailureSettings(NatFailureMode Mode, NatFailoverTiming Timing)
{
    /// <summary>Steady traffic before the failure. 5 seconds.</summary>
    public TimeSpan Before { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Steady traffic after the NAT forwards again. 8 seconds.</summary>
    public TimeSpan After { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>How often each path starts a new connection. 250 ms: at most 4 in flight per path during the outage.</summary>
    public TimeSpan AttemptInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a new connection is given. 1 second (the lab answers in milliseconds).</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Server-paced transfers per path held across the failure. 2.</summary>
    public int HeldPerPath { get; init; } = 2;

    /// <summary>A held transfer counts as lost after this long without a byte. 8 seconds.</summary>
    public TimeSpan StallLimit { get; init; } = TimeSpan.FromSeconds(8);
}

/// <summary>
/// Fails the NAT instance in the middle of steady traffic on each path from the private subnet (new connections to
/// checkip on a fixed schedule, and a few long transfers from the web host's /drip/ held across the failure), brings
/// it back on the same network interface, and measures what each path saw. The lab's proxy instance sits in the
/// private subnet and leaves through the NAT instance too, so the proxy path is measured, not assumed either way.
/// </summary>
internal sealed class NatFailureRun(LabController lab, LabEnvironment environment, Shell shell, TextWriter output)
{
    /// <summary>The held transfer: 1 MiB paced at 32 KiB/s, about 32 seconds, running through the whole failure.</summary>
    private const string HeldPath = "/drip/1m";

    public NatFailureResults Run(IReadOnlyList<LabPath> paths, string nat, string checkUrl, string webName, NatFailureSettings settings)
    {
        var clock = Stopwatch.StartNew();
        var held = paths.ToDictionary(p => p.Path.Id, p => Enumerable.Range(0, settings.HeldPerPath).Select(_ => Task.Run(() => HeldTransfer(p, webName, settings))).ToList());
        var attempts = paths.ToDictionary(p => p.Path.Id, _ => new List<Task<ConnectionAttempt>>());
        using var stop = new CancellationTokenSource();
        var schedulers = paths.Select(p => Task.Run(() => Schedule(p, checkUrl, settings, clock, attempts[p.Path.Id], stop.Token))).ToList();

        Thread.Sleep(settings.Before);
        var failedAt = clock.Elapsed;
        output.WriteLine($"  NAT failure: lab fail nat --mode {Describe(settings.Mode)}");
        Require(lab.FailNat(nat, settings.Mode, settings.Timing));
        // A topology with failover: asg-eni has the NAT replaced already, after the same delays; otherwise the
        // replacement is done here, as the group would.
        if (LabState.Read(environment)?.NatFailure is not null)
        {
            var remaining = settings.Timing.Total - (clock.Elapsed - failedAt);
            if (remaining > TimeSpan.Zero)
            {
                Thread.Sleep(remaining);
            }

            Require(lab.HealNat(nat));
        }

        var restoredAt = clock.Elapsed;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  NAT failure: forwarding again after {(restoredAt - failedAt).TotalSeconds:0.0} s; measuring recovery"));
        Thread.Sleep(settings.After);
        stop.Cancel();
        Task.WaitAll([.. schedulers]);

        var outages = paths.Select(p =>
        {
            var tried = attempts[p.Path.Id].Select(t => t.Result).ToList();
            var completed = held[p.Path.Id].Select(t => t.Result).ToList();
            var outage = EgressOutage.Measure(tried, completed);
            return new PathOutage(p.Path.Id, outage.Attempts, outage.Failed, outage.TimeWithoutEgress?.TotalSeconds, outage.Recovered, outage.Held, outage.HeldLost);
        }).ToList();
        return new NatFailureResults(Describe(settings.Mode), failedAt.TotalSeconds, restoredAt.TotalSeconds, settings.AttemptInterval.TotalSeconds, settings.AttemptTimeout.TotalSeconds, outages);
    }

    private void Schedule(LabPath path, string checkUrl, NatFailureSettings settings, Stopwatch clock, List<Task<ConnectionAttempt>> attempts, CancellationToken stop)
    {
        var timeout = Seconds(settings.AttemptTimeout);
        for (var next = clock.Elapsed; !stop.IsCancellationRequested; next += settings.AttemptInterval)
        {
            var wait = next - clock.Elapsed;
            if (wait > TimeSpan.Zero && stop.WaitHandle.WaitOne(wait))
            {
                break;
            }

            attempts.Add(Task.Run(() =>
            {
                var start = clock.Elapsed;
                var result = InPath(path, ["curl", "-s", "-f", "-o", "/dev/null", "-m", timeout, checkUrl], settings.AttemptTimeout + TimeSpan.FromSeconds(5));
                return new ConnectionAttempt(start, clock.Elapsed, result.Succeeded);
            }, CancellationToken.None));
        }

        Task.WaitAll([.. attempts]);
    }

    /// <summary>A transfer the server paces; true when it finished, false when it stalled or broke.</summary>
    private bool HeldTransfer(LabPath path, string webName, NatFailureSettings settings)
    {
        var limit = settings.Before + settings.Timing.Total + settings.After + TimeSpan.FromSeconds(40);
        string[] curl = ["curl", "-s", "-f", "-o", "/dev/null", "--speed-limit", "1", "--speed-time", Seconds(settings.StallLimit), "-m", Seconds(limit), $"http://{webName}{HeldPath}"];
        return InPath(path, curl, limit + TimeSpan.FromSeconds(5)).Succeeded;
    }

    private CommandResult InPath(LabPath path, IReadOnlyList<string> command, TimeSpan timeout) =>
        shell.TryRun("ip", ["netns", "exec", path.Namespace, "env", .. path.Variables, .. command], timeout: timeout);

    private static void Require(LabResult result)
    {
        if (!result.Succeeded)
        {
            throw new CompareException($"the NAT failure run could not fail or restore the NAT instance: {string.Join("; ", result.Errors)}");
        }
    }

    private static string Describe(NatFailureMode mode) => mode == NatFailureMode.Kill ? "kill" : "stop-forwarding";

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
