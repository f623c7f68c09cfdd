namespace EgressLab.LoadTests.Results;

/// <summary>
/// compare's NAT failure run: steady new connections and a few long transfers through each path from the private
/// subnet, the NAT instance failed midway and restored on its network interface, and what each path saw.
/// </summary>
/// <param name="Mode"><c>kill</c> or <c>stop-forwarding</c>, as <c>lab fail nat --mode</c>.</param>
/// <param name="FailedAtSeconds">When the NAT was failed, from the run's start.</param>
/// <param name="RestoredAtSeconds">When it forwarded again: for kill, a new instance on the same interface (the lab's asg-eni failover after its delays); for stop-forwarding, forwarding turned back on after the same delays.</param>
/// <param name="AttemptIntervalSeconds">How often each path started a new connection; the resolution of the time without egress.</param>
/// <param name="AttemptTimeoutSeconds">How long a new connection was given before it counted as failed.</param>
internal sealed record NatFailureResults(
    string Mode,
    double FailedAtSeconds,
    double RestoredAtSeconds,
    double AttemptIntervalSeconds,
    double AttemptTimeoutSeconds,
    IReadOnlyList<PathOutage> Paths);

/// <summary>One path's outage.</summary>
/// <param name="TimeWithoutEgressSeconds">From the first failed new connection to the first that succeeded after it; 0 when none failed, null when none succeeded again.</param>
/// <param name="HeldLost">Transfers running through the failure that did not finish.</param>
internal sealed record PathOutage(string PathId, int Attempts, int Failed, double? TimeWithoutEgressSeconds, bool Recovered, int Held, int HeldLost);
