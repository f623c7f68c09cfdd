namespace EgressLab.ProxyInstance.Policy;

/// <summary>The outcome of <see cref="CompiledPolicy.Decide"/>.</summary>
/// <remarks>Instances are created once per compiled rule (and once per default) and reused, so deciding allocates nothing.</remarks>
/// <param name="Action">Allow or deny, as the rules say.</param>
/// <param name="Reason">Stable reason code for logs and metrics.</param>
/// <param name="RuleName">The rule that matched; <see langword="null"/> when the default action decided.</param>
internal sealed record PolicyDecision(PolicyAction Action, PolicyReason Reason, string? RuleName)
{
    /// <summary>
    /// A denial that is only reported (<see cref="PolicyMode.Report"/>): the request goes through and is recorded as
    /// one the policy would have denied. Never set on an <see cref="PolicyAction.Allow"/> decision.
    /// </summary>
    public bool ReportOnly { get; init; }

    /// <summary>Whether the request may go on: the rules allow it, or their denial is only reported.</summary>
    public bool IsAllowed => Action == PolicyAction.Allow || ReportOnly;

    /// <summary>Whether the rules deny the request but the denial is only reported.</summary>
    public bool WouldDeny => Action == PolicyAction.Deny && ReportOnly;

    /// <summary>This decision in report mode: the same denial, reported only. An allow stays as it is.</summary>
    public PolicyDecision AsReported() => Action == PolicyAction.Deny ? this with { ReportOnly = true } : this;
}
