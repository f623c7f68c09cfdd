using System.Net;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Policy;

/// <summary>The access policy, validated and compiled from the configuration file by its policy compiler. Immutable and thread-safe.</summary>
internal sealed class CompiledPolicy
{
    private static readonly PolicyDecision DefaultAllowDecision = new(PolicyAction.Allow, PolicyReason.DefaultAllow, null);
    private static readonly PolicyDecision DefaultDenyDecision = new(PolicyAction.Deny, PolicyReason.DefaultDeny, null);

    private static readonly PolicyDecision ReportedDefaultDenyDecision = DefaultDenyDecision.AsReported();

    private readonly CompiledRule[] _rules;
    private readonly PolicyDecision _defaultDecision;
    private readonly IPNetwork[]? _reportSources;

    internal CompiledPolicy(
        IEnumerable<CompiledRule> rules,
        PolicyAction defaultAction,
        bool denyPrivateDestinations,
        IEnumerable<IPNetwork> allowedPrivateDestinations,
        SniMode sniMode,
        PolicyAction otherTunnelProtocols = PolicyAction.Deny,
        PolicyMode mode = PolicyMode.Enforce,
        IEnumerable<IPNetwork>? reportSources = null)
    {
        _rules = [.. rules];
        _defaultDecision = defaultAction == PolicyAction.Allow ? DefaultAllowDecision : DefaultDenyDecision;
        DenyPrivateDestinations = denyPrivateDestinations;
        AllowedPrivateDestinations = [.. allowedPrivateDestinations];
        SniMode = sniMode;
        OtherTunnelProtocols = otherTunnelProtocols;
        Mode = mode;
        _reportSources = reportSources is null ? null : [.. reportSources];
        if (_reportSources is { Length: 0 })
        {
            _reportSources = null;
        }
    }

    /// <summary>Whether denials are enforced or only reported, for rules without a mode of their own and the default action.</summary>
    public PolicyMode Mode { get; }

    /// <summary>Clients whose denials are only reported, for rules without a mode of their own and the default action.</summary>
    public IReadOnlyList<IPNetwork> ReportSources => _reportSources ?? [];

    /// <summary>Whether destinations with private, loopback, link-local and similar addresses are refused.</summary>
    public bool DenyPrivateDestinations { get; }

    /// <summary>Networks exempt from <see cref="DenyPrivateDestinations"/>.</summary>
    public IReadOnlyList<IPNetwork> AllowedPrivateDestinations { get; }

    public SniMode SniMode { get; }

    /// <summary>
    /// Whether a tunnel may carry a protocol that is neither TLS nor HTTP/1.x (or one in which the destination speaks
    /// first), whose destination name cannot be checked. Not consulted when <see cref="SniMode"/> is Off.
    /// </summary>
    public PolicyAction OtherTunnelProtocols { get; }

    public int RuleCount => _rules.Length;

    /// <summary>The default action's decision, used when no rule matches.</summary>
    public PolicyDecision DefaultDecision => _defaultDecision;

    /// <summary>
    /// Evaluates the rules in order; the first whose every condition matches decides, otherwise the default action.
    /// </summary>
    /// <remarks>
    /// The host is classified and normalised once here, not per rule. Allocation-free for ASCII names and for
    /// rules without IP conditions; parsing an IP literal or encoding a Unicode name allocates. A denial that is only
    /// reported (see <see cref="PolicyMode"/>) is a precomputed decision too.
    /// </remarks>
    public PolicyDecision Decide(in PolicyRequest request)
    {
        Span<char> buffer = stackalloc char[HostName.MaxLength];
        var destination = Destination.Classify(request.Host, buffer);
        foreach (var rule in _rules)
        {
            if (rule.Matches(request, destination))
            {
                return rule.Decision.IsAllowed || (rule.Mode ?? ModeFor(request.Client)) == PolicyMode.Enforce
                    ? rule.Decision
                    : rule.ReportedDecision;
            }
        }

        return _defaultDecision.IsAllowed || ModeFor(request.Client) == PolicyMode.Enforce
            ? _defaultDecision
            : ReportedDefaultDenyDecision;
    }

    // Consulted only for a denial, so the report sources cost nothing on the allowed path.
    private PolicyMode ModeFor(IPAddress? client) =>
        Mode == PolicyMode.Report || (_reportSources is not null && client is not null && CidrNotation.AnyContains(_reportSources, client))
            ? PolicyMode.Report
            : PolicyMode.Enforce;
}
