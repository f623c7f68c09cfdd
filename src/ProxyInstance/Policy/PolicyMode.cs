namespace EgressLab.ProxyInstance.Policy;

/// <summary>Whether the policy's denials are carried out or only recorded.</summary>
/// <remarks>
/// Report mode is for rolling out an allowlist: a request the policy would deny goes through, and its access-log line
/// and metrics say which rule (or the default action) would have denied it. Only the policy is affected: the SSRF
/// guard, the SNI and Host checks of tunnels, authentication and rate limits are always enforced.
/// </remarks>
internal enum PolicyMode
{
    /// <summary>A denial refuses the request.</summary>
    Enforce,

    /// <summary>A denial lets the request through and is recorded as <c>would_deny</c>.</summary>
    Report,
}
