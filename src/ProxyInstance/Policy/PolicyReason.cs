namespace EgressLab.ProxyInstance.Policy;

/// <summary>Why the policy decided as it did. The names are stable: logs and metrics use them.</summary>
internal enum PolicyReason
{
    /// <summary>A rule with action <c>Allow</c> matched.</summary>
    RuleAllow,

    /// <summary>A rule with action <c>Deny</c> matched.</summary>
    RuleDeny,

    /// <summary>No rule matched and the default action is <c>Allow</c>.</summary>
    DefaultAllow,

    /// <summary>No rule matched and the default action is <c>Deny</c>.</summary>
    DefaultDeny,
}
