namespace EgressLab.LoadTests.Measurement;

/// <summary>One new connection tried during a NAT failure run: when it started and ended, and whether it was answered.</summary>
/// <param name="Start">From the run's start.</param>
/// <param name="End">From the run's start; a failed attempt ends at its timeout or its error.</param>
internal sealed record ConnectionAttempt(TimeSpan Start, TimeSpan End, bool Succeeded);

/// <summary>What a NAT failure did to one egress path.</summary>
/// <param name="Attempts">New connections tried, on a fixed schedule that does not wait for the previous one.</param>
/// <param name="Failed">Of those, how many got no answer.</param>
/// <param name="FirstFailure">When the first failed attempt started; null when none failed.</param>
/// <param name="Recovery">When the first attempt that succeeded after <paramref name="FirstFailure"/> started; null when none did.</param>
/// <param name="Held">Connections opened before the failure and still transferring when it came.</param>
/// <param name="HeldLost">Of those, how many did not finish their transfer.</param>
internal sealed record EgressOutage(int Attempts, int Failed, TimeSpan? FirstFailure, TimeSpan? Recovery, int Held, int HeldLost)
{
    /// <summary>Whether new connections got through again after they started failing (true when none failed).</summary>
    public bool Recovered => FirstFailure is null || Recovery is not null;

    /// <summary>
    /// Time without egress: from the start of the first failed new connection to the start of the first one that
    /// succeeded after it. Zero when none failed, null when none succeeded again. Its resolution is the interval
    /// between attempts.
    /// </summary>
    public TimeSpan? TimeWithoutEgress => FirstFailure is not { } first ? TimeSpan.Zero : Recovery - first;

    /// <summary>
    /// Measures an outage from the attempts (in any order) and, for each connection held across the failure,
    /// whether it finished its transfer.
    /// </summary>
    public static EgressOutage Measure(IReadOnlyList<ConnectionAttempt> attempts, IReadOnlyList<bool> heldCompleted)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        ArgumentNullException.ThrowIfNull(heldCompleted);
        var ordered = attempts.OrderBy(a => a.Start).ToList();
        var firstFailure = ordered.FirstOrDefault(a => !a.Succeeded)?.Start;
        var recovery = firstFailure is { } first ? ordered.FirstOrDefault(a => a.Succeeded && a.Start > first)?.Start : null;
        return new EgressOutage(ordered.Count, ordered.Count(a => !a.Succeeded), firstFailure, recovery, heldCompleted.Count, heldCompleted.Count(done => !done));
    }
}
