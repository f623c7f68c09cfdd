namespace EgressLab.ProxyInstance.Policy;

/// <summary>What the policy says to do with a request.</summary>
internal enum PolicyAction
{
    Allow,
    Deny,
}
