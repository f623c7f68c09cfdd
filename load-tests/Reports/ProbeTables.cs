using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Scenarios;
using F = EgressLab.LoadTests.Reports.ReportFormat;

namespace EgressLab.LoadTests.Reports;

/// <summary>The NAT gateway probes as report text and tables, shared by report.md and report.html.</summary>
internal static class ProbeTables
{
    public const string Heading = "NAT gateway limits";

    /// <summary>What the section shows and under which settings; the lowered lab values are stated, beside AWS's.</summary>
    public static string Description(CompareResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var settings = results.NatGateway is { } limits
            ? $"In this run the lab's NAT gateway had an idle timeout of {F.Seconds(limits.IdleTimeoutSeconds)} (AWS: 350 s) and a limit of "
              + $"{F.Count(limits.ConnectionsPerDestination)} simultaneous connections per destination (AWS: 55,000), lowered so the probes take seconds on a small machine. "
            : "The lab had no NAT gateway in this run. ";
        return "Two behaviour probes on every path that leaves without a proxy. natgw-destination-limit opens many connections at once to one "
            + "destination (address, port, protocol), holds them, and meanwhile opens one to a second destination. natgw-idle-timeout leaves a "
            + "keep-alive connection idle past the NAT gateway's timeout and sends another request on it. " + settings;
    }

    /// <summary>What the lab's emulation leaves out, so nobody reads more into the numbers than they hold.</summary>
    public static IReadOnlyList<string> Caveats { get; } =
    [
        "On AWS a NAT gateway allows 55,000 simultaneous connections to each unique destination and drops new ones past it (CloudWatch: ErrorPortAllocation); "
        + "the lab counts connections per destination with nftables (ct count) and drops the SYN, so a client sees a connect timeout, as on AWS.",
        "On AWS an idle TCP connection is dropped after 350 s and the next packet from behind the gateway gets a reset (CloudWatch: IdleTimeoutCount); "
        + "the lab sets the gateway namespace's conntrack timeout for established TCP and answers packets of forgotten connections with a reset.",
        "Not emulated: the gateway's bandwidth (5 Gbps scaling to 100 Gbps), its packet rate, its 2 to 8 additional Elastic IPs (each adds 55,000 "
        + "connections per destination), and its availability-zone redundancy. The lab gateway is a namespace on one machine.",
    ];

    public static ReportTable DestinationLimit(CompareResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return new(
            [
                new("path", "Path"), new("destination", "Destination"), new("attempts", "Tried at once", Numeric: true),
                new("opened", "Opened", Numeric: true), new("failed", "Failed", Numeric: true), new("second", "Second destination meanwhile"),
                new("reading", "Reading"),
            ],
            [.. results.Probes.Where(p => p.Scenario == NatGatewayProbes.DestinationLimit && p.Limit is not null).Select(p => Row(p.PathId, p.Limit!))]);
    }

    public static ReportTable IdleTimeout(CompareResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return new(
            [new("path", "Path"), new("destination", "Destination"), new("idle", "Idle for", Numeric: true), new("outcome", "Next request"), new("reading", "Reading")],
            [.. results.Probes.Where(p => p.Scenario == NatGatewayProbes.IdleTimeout && p.Idle is not null).Select(p => Row(p.PathId, p.Idle!))]);
    }

    public static bool HasProbes(CompareResults results) => results?.Probes.Count > 0;

    private static ReportRow Row(string path, DestinationLimitResult limit)
    {
        var reading = limit.Failed == 0
            ? "no limit reached: every connection opened"
            : limit.SecondDestinationOpened
                ? $"limit: {F.Count(limit.Opened)} to one destination, the rest failed; another destination still opened"
                : "connections failed, and so did the second destination: not a per-destination limit";
        return new ReportRow(path,
        [
            path, limit.Destination, F.Count(limit.Attempts), F.Count(limit.Opened), F.Count(limit.Failed),
            $"{limit.SecondDestination}: {(limit.SecondDestinationOpened ? "opened" : "failed")}", reading,
        ]);
    }

    private static ReportRow Row(string path, IdleTimeoutResult idle)
    {
        var reading = idle.Outcome switch
        {
            IdleOutcome.Reset => "the path forgot the idle connection: reset",
            IdleOutcome.Answered => "the path kept the idle connection",
            IdleOutcome.Closed => "the server closed the connection first",
            IdleOutcome.NoAnswer => "no answer: packets dropped",
            _ => "the probe could not start",
        };
        return new ReportRow(path, [path, idle.Destination, F.Seconds(idle.IdleSeconds), $"{idle.Outcome}: {idle.Detail}", reading]);
    }
}
