using EgressLab.LoadTests.Cost;

namespace EgressLab.LoadTests.Compare;

/// <summary>What a <c>compare</c> run measures, and where it writes.</summary>
/// <param name="CellDuration">How long each scenario runs on each path in each round, after its warm-up.</param>
/// <param name="Concurrency">Users per cell (closed model), so every request sent is answered and counted.</param>
/// <param name="Ladder">Offered rates for the http-small rate ladder per path; empty for none.</param>
/// <param name="LadderStep">How long each ladder rate runs, after its warm-up.</param>
/// <param name="NatFailure">Also fail the NAT instance in the middle of steady traffic and measure each path's outage; null for no such run.</param>
/// <param name="With">Incumbent proxies to measure in the proxy instance's place as extra L7 paths: <c>squid</c>, <c>tinyproxy</c>.</param>
internal sealed record CompareOptions(
    TimeSpan CellDuration,
    TimeSpan WarmUp,
    int Rounds,
    int Concurrency,
    IReadOnlyList<string> Scenarios,
    IReadOnlyList<double> Ladder,
    TimeSpan LadderStep,
    IReadOnlyList<string> With,
    string OutDirectory,
    string CommandLine,
    Provisioner.Lab.NatFailureMode? NatFailure = null)
{
    /// <summary>The monthly cost per path the reports show; null when no <c>--traffic</c> was given.</summary>
    public CostEstimate? Cost { get; init; }

    /// <summary>The NAT gateway behaviour probes to run on every path that leaves without a proxy (<c>natgw-destination-limit</c>, <c>natgw-idle-timeout</c>).</summary>
    public IReadOnlyList<string> Probes { get; init; } = [];

    /// <summary>The topology file the lab is built from; null for <c>nat-gateway.yaml</c>, the seed topology with a NAT gateway beside the NAT instance.</summary>
    public string? Topology { get; init; }
}
