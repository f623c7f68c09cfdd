using EgressLab.ProxyInstance.Targets;
namespace EgressLab.ProxyInstance.Policy;

/// <summary>Many <see cref="DomainPattern"/>s compiled for lookup in time proportional to the host's label count.</summary>
/// <remarks>
/// Two hash sets keyed by normalised name: one of names that match as they are (exact patterns, and the anchor of
/// <c>.x</c> patterns), one of names whose subdomains match (<c>.x</c> and <c>*.x</c>). A host is looked up whole in the
/// first, then each proper suffix at a label boundary in the second; spans make that allocation-free.
/// </remarks>
internal sealed class DomainSet
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _parents = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _nameLookup;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _parentLookup;

    public DomainSet(IEnumerable<DomainPattern> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        var distinct = new HashSet<DomainPattern>();
        foreach (var pattern in patterns)
        {
            if (pattern.Name is null)
            {
                throw new ArgumentException("A default DomainPattern is not a pattern.", nameof(patterns));
            }

            distinct.Add(pattern);
            if (pattern.Kind != DomainPatternKind.SubdomainsOnly)
            {
                _names.Add(pattern.Name);
            }

            if (pattern.Kind != DomainPatternKind.Exact)
            {
                _parents.Add(pattern.Name);
            }
        }

        Count = distinct.Count;
        _names.TrimExcess();
        _parents.TrimExcess();
        _nameLookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
        _parentLookup = _parents.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Number of distinct patterns.</summary>
    public int Count { get; }

    /// <summary>Whether <paramref name="host"/>, as received (any case, trailing dot, Unicode), matches any pattern.</summary>
    public bool Matches(string host)
    {
        Span<char> buffer = stackalloc char[HostName.MaxLength];
        return HostName.Normalize(host, buffer, strict: false, out var written, out _) == HostNameStatus.Valid
            && MatchesNormalized(buffer[..written]);
    }

    /// <summary>Whether an already normalised host (see <see cref="HostName.Normalize"/>) matches any pattern.</summary>
    public bool MatchesNormalized(ReadOnlySpan<char> host)
    {
        if (_names.Count != 0 && _nameLookup.Contains(host))
        {
            return true;
        }

        if (_parents.Count == 0)
        {
            return false;
        }

        var dot = host.IndexOf('.');
        while (dot >= 0)
        {
            host = host[(dot + 1)..];
            if (_parentLookup.Contains(host))
            {
                return true;
            }

            dot = host.IndexOf('.');
        }

        return false;
    }
}
