using System.Globalization;
using EgressLab.LoadTests.Results;
using F = EgressLab.LoadTests.Reports.ReportFormat;

namespace EgressLab.LoadTests.Reports;

/// <summary>The NAT failure section (<c>compare --nat-failure</c>), as plain text for both report.md and report.html.</summary>
internal static class NatFailureTables
{
    public const string Title = "NAT instance failure";

    public static string Description(NatFailureResults failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var down = failure.RestoredAtSeconds - failure.FailedAtSeconds;
        var how = failure.Mode == "kill"
            ? "killed (its interface down and detached, its connection tracking gone), then replaced by a new instance on the same interface, as the asg-eni failover does"
            : "made to stop forwarding (ip_forward=0), then turned back on";
        var measured = string.Create(CultureInfo.InvariantCulture,
            $"Each path from the private subnet started a new connection to checkip every {failure.AttemptIntervalSeconds:0.###} s (given {failure.AttemptTimeoutSeconds:0.###} s each) and held server-paced transfers open, while the NAT instance was {how}: failed at {failure.FailedAtSeconds:0.0} s, forwarding again {down:0.0} s later.");
        return measured
            + " The lab's failover delays are seconds; on AWS the Auto Scaling group takes minutes to see the instance gone and boot a replacement."
            + " Time without egress runs from the first new connection that failed to the first that succeeded after it. "
            + ProxyPath(failure);
    }

    /// <summary>What the proxy path did, from what was measured on it.</summary>
    private static string ProxyPath(NatFailureResults failure) => failure.Paths.FirstOrDefault(p => p.PathId == "l7") switch
    {
        null => "No proxy path was measured.",
        { Failed: 0, HeldLost: 0 } => "The proxy path (l7) kept working throughout: its way out does not cross the NAT instance.",
        _ => "The proxy path (l7) went down as well: the lab's proxy instance is in the private subnet and leaves through the NAT instance. A proxy fleet with a way out of its own (a public subnet with its own addresses, or a NAT per zone) would not.",
    };

    public static ReportTable Table(NatFailureResults failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return new(
            [new("path", "Path"), new("attempts", "new connections", true), new("failed", "failed", true), new("outage", "time without egress", true), new("held", "transfers held", true), new("lost", "transfers lost", true)],
            [.. failure.Paths.Select(p => new ReportRow(p.PathId,
            [
                p.PathId, F.Count(p.Attempts), F.Count(p.Failed),
                p.TimeWithoutEgressSeconds is { } seconds ? F.Seconds(seconds) : "not recovered",
                F.Count(p.Held), F.Count(p.HeldLost),
            ]) { Flagged = !p.Recovered })]);
    }
}
