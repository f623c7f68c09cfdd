using System.Net;

namespace EgressLab.ProxyInstance.Policy;

/// <summary>One rule, validated and compiled; every condition is <see langword="null"/> when absent.</summary>
internal sealed class CompiledRule
{
    // A rule that names no ports covers web traffic only; anything else must be opened up explicitly.
    private static readonly int[] DefaultPorts = [80, 443];

    private readonly IPNetwork[]? _sources;
    private readonly DomainSet? _domains;
    private readonly IPNetwork[]? _destinationCidrs;
    private readonly int[] _ports;
    private readonly HashSet<string>? _methods;
    private readonly HashSet<string>? _users;

    /// <param name="name">Rule name.</param>
    /// <param name="action">What the rule does when it matches.</param>
    /// <param name="sources">Client networks; <see langword="null"/> for any client.</param>
    /// <param name="domains">Destination name patterns; see <see cref="MatchesDestination"/>.</param>
    /// <param name="destinationCidrs">Destination networks for IP literals; see <see cref="MatchesDestination"/>.</param>
    /// <param name="ports">Destination ports; <see langword="null"/> for 80 and 443 only.</param>
    /// <param name="methods">Upper-case methods; <see langword="null"/> for any method.</param>
    /// <param name="users">User names; <see langword="null"/> for anyone, authenticated or not.</param>
    /// <param name="mode">Whether a denial by this rule is enforced or only reported; <see langword="null"/> to follow the policy's mode.</param>
    public CompiledRule(
        string name,
        PolicyAction action,
        IPNetwork[]? sources,
        DomainSet? domains,
        IPNetwork[]? destinationCidrs,
        IEnumerable<int>? ports,
        IEnumerable<string>? methods,
        IEnumerable<string>? users,
        PolicyMode? mode = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Decision = new PolicyDecision(action, action == PolicyAction.Allow ? PolicyReason.RuleAllow : PolicyReason.RuleDeny, name);
        ReportedDecision = Decision.AsReported();
        Mode = mode;
        _sources = sources;
        _domains = domains;
        _destinationCidrs = destinationCidrs;
        if (ports is null)
        {
            _ports = DefaultPorts;
        }
        else
        {
            _ports = [.. new SortedSet<int>(ports)];
        }

        _methods = methods is null ? null : new HashSet<string>(methods, StringComparer.Ordinal);
        _users = users is null ? null : new HashSet<string>(users, StringComparer.Ordinal);
    }

    public string Name => Decision.RuleName!;

    /// <summary>The decision this rule yields; one instance, reused for every match.</summary>
    public PolicyDecision Decision { get; }

    /// <summary>The decision when this rule's denial is only reported; the same instance as <see cref="Decision"/> for an Allow rule.</summary>
    public PolicyDecision ReportedDecision { get; }

    /// <summary>The rule's own mode, or <see langword="null"/> when it follows the policy's mode and report sources.</summary>
    public PolicyMode? Mode { get; }

    /// <summary>Whether every condition of the rule holds for the request.</summary>
    public bool Matches(in PolicyRequest request, Destination destination) =>
        Array.BinarySearch(_ports, request.Port) >= 0
        && (_methods is null || (request.Method is not null && _methods.Contains(request.Method)))
        && (_users is null || (request.User is not null && _users.Contains(request.User)))
        && (_sources is null || (request.Client is not null && CidrNotation.AnyContains(_sources, request.Client)))
        && MatchesDestination(destination);

    /// <summary>
    /// Domains apply to names only and DestinationCidrs to IP literals only. With both, the destination must match
    /// one of them: a name one of the Domains, or a literal one of the DestinationCidrs. With neither, any
    /// destination matches.
    /// </summary>
    public bool MatchesDestination(Destination destination)
    {
        if (_domains is null && _destinationCidrs is null)
        {
            return true;
        }

        if (destination.Address is not null)
        {
            return _destinationCidrs is not null && CidrNotation.AnyContains(_destinationCidrs, destination.Address);
        }

        return destination.IsName && _domains is not null && _domains.MatchesNormalized(destination.Name);
    }
}
