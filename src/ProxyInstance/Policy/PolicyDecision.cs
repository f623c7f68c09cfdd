namespace EgressLab.ProxyInstance.Policy;

/// <summary>The outcome of <see cref="CompiledPolicy.Decide"/>.</summary>
/// <remarks>Instances are created once per compiled rule (and once per default) and reused, so deciding allocates nothing.</remarks>
/// <param name="Action">Allow or deny.</param>
/// <param name="Reason">Stable reason code for logs and metrics.</param>
/// <param name="RuleName">The rule that matched; <see langword="null"/> when the default action decided.</param>
internal sealed record PolicyDecision(PolicyAction Action, PolicyReason Reason, string? RuleName)
{
    public bool IsAllowed => Action == PolicyAction.Allow;
}
