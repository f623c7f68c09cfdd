namespace EgressLab.LoadTests.Results;

/// <summary>One way out of the lab that <c>compare</c> measures.</summary>
/// <param name="Id">Short and stable: <c>l3</c>, <c>l4</c>, <c>l7</c>, <c>l7-squid</c>, <c>l7-tinyproxy</c>.</param>
/// <param name="Layer">L3, L4 or L7.</param>
/// <param name="Title">For people: "Internet Gateway (1:1 NAT)", "NAT instance (PAT)", "egress proxy", "Squid".</param>
/// <param name="Client">The lab host the load ran on: <c>public-1</c> or <c>private-1</c>.</param>
/// <param name="SeenSource">Source address and port the internet's checkip server saw, e.g. <c>203.0.113.11:52344</c>.</param>
/// <param name="NewTcpConnection">Whether the path opens a new TCP connection towards the server (a proxy does; NAT rewrites packets).</param>
/// <param name="ApplicationAllowlist">Whether the path can allow or deny by host name (only a proxy can).</param>
internal sealed record EgressPath(string Id, string Layer, string Title, string Client, string SeenSource, bool NewTcpConnection, bool ApplicationAllowlist);

/// <summary>One scenario on one path in one round.</summary>
internal sealed record CompareCell(string PathId, string Scenario, int Round, ScenarioResult Result);

/// <summary>
/// The requests the load generators counted against those the lab's web server logged, per path: a report
/// whose numbers do not add up says so instead of being believed.
/// </summary>
/// <param name="Counted">Requests that succeeded, warm-up included: each one the server must have logged.</param>
/// <param name="Failed">Requests that failed, warm-up included: each may or may not have reached the server.</param>
internal sealed record RequestAccounting(string PathId, long Counted, long Logged, long Failed = 0)
{
    /// <summary>Whether the log holds every request that succeeded, and no more than those that failed besides.</summary>
    public bool AddsUp => Logged >= Counted && Logged <= Counted + Failed;
}

/// <summary>What <c>compare</c> writes as results.json, and what report.md and report.html are made from.</summary>
internal sealed record CompareResults
{
    public required RunEnvironment Environment { get; init; }
    public required int Rounds { get; init; }
    public required double CellDurationSeconds { get; init; }
    public required IReadOnlyList<EgressPath> Paths { get; init; }

    /// <summary>Every measured cell, in the order they ran (interleaved: each round runs every path once).</summary>
    public required IReadOnlyList<CompareCell> Cells { get; init; }

    /// <summary>Per path id: a rate ladder of http-small, for latency against offered rate.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<LadderStep>> Ladders { get; init; } = new Dictionary<string, IReadOnlyList<LadderStep>>();
    public IReadOnlyList<RequestAccounting> Accounting { get; init; } = [];

    /// <summary>The NAT failure run (<c>compare --nat-failure</c>); null when none ran.</summary>
    public NatFailureResults? NatFailure { get; init; }

    /// <summary>The NAT gateway behaviour probes, per path that leaves without a proxy; empty when none ran.</summary>
    public IReadOnlyList<ProbeCell> Probes { get; init; } = [];

    /// <summary>The limits the lab's NAT gateway had for this run; null when the lab had no NAT gateway.</summary>
    public NatGatewayLimits? NatGateway { get; init; }
}
