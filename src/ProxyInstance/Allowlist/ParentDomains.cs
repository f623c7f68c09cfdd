using EgressLab.ProxyInstance.Configuration;

namespace EgressLab.ProxyInstance.Allowlist;

/// <summary>
/// Decides where seen names are generalised to <c>.parent</c> patterns, and guesses each name's registrable domain
/// (its "site"), which no parent may go above.
/// </summary>
/// <remarks>
/// The guess of a site is deliberately conservative: the last two labels, or the last three under a two-letter
/// country code whose second label is a common generic one (<c>example.co.uk</c>, <c>example.com.au</c>). On top of
/// it, no parent is ever a name the embedded Public Suffix List makes a public suffix (or whose children it makes
/// suffixes), such as a cloud provider's per-customer domains. A suggestion is still a starting point to review,
/// never a rule to apply unread.
/// </remarks>
internal static class ParentDomains
{
    // Second-level labels under which country-code registries sell names (co.uk, com.au, ac.jp, ...).
    private static readonly HashSet<string> GenericSecondLevels = new(
        ["ac", "biz", "co", "com", "edu", "gen", "go", "gob", "gouv", "gov", "govt", "info", "int", "lg", "ltd", "mil", "ne", "net",
         "nhs", "nic", "nom", "or", "org", "plc", "sch", "web"],
        StringComparer.Ordinal);

    /// <summary>The registrable domain <paramref name="name"/> is most likely under, or the name itself when it is shorter.</summary>
    public static string Site(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var labels = name.Split('.');
        var keep = SiteLabels(labels);
        return labels.Length <= keep ? name : string.Join('.', labels[^keep..]);
    }

    /// <summary>
    /// Whether <c>.<paramref name="parent"/></c> stays at or below a registrable domain: two labels at least, three under a
    /// suffix such as co.uk, and never a name the Public Suffix List makes a suffix or a suffix's parent
    /// (<c>s3.amazonaws.com</c>, <c>compute.amazonaws.com</c>), which the policy compiler would refuse.
    /// </summary>
    public static bool MayBeParent(string parent)
    {
        ArgumentNullException.ThrowIfNull(parent);
        var labels = parent.Split('.');
        return labels.Length >= SiteLabels(labels) && !PublicSuffixList.Embedded.TryMatch(parent, out _);
    }

    /// <summary>
    /// Maps every name in <paramref name="names"/> (canonical DNS names) to the pattern that should cover it: the
    /// name itself, or <c>.parent</c> where <paramref name="siblings"/> or more distinct names directly below that
    /// parent were seen. Counting goes bottom-up, and a parent already chosen counts as one name below its own parent,
    /// so <c>a.x.example.com</c>, <c>b.x.example.com</c>, <c>c.x.example.com</c> give <c>.x.example.com</c> and not
    /// <c>.example.com</c>. A name below a chosen parent is covered by it, whatever its depth. 0 turns parents off.
    /// </summary>
    public static Dictionary<string, string> Collapse(IEnumerable<string> names, int siblings)
    {
        ArgumentNullException.ThrowIfNull(names);
        var seen = names.ToHashSet(StringComparer.Ordinal);
        var patterns = seen.ToDictionary(n => n, n => n, StringComparer.Ordinal);
        if (siblings == 0)
        {
            return patterns;
        }

        // Every proper ancestor of every name, with the distinct nodes directly below it.
        var children = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var name in seen)
        {
            var node = name;
            for (var dot = node.IndexOf('.', StringComparison.Ordinal); dot >= 0; dot = node.IndexOf('.', StringComparison.Ordinal))
            {
                var parent = node[(dot + 1)..];
                if (!children.TryGetValue(parent, out var below))
                {
                    children[parent] = below = new HashSet<string>(StringComparer.Ordinal);
                }

                below.Add(node);
                node = parent;
            }
        }

        var chosen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var parent in children.Keys.OrderByDescending(LabelCount).ThenBy(p => p, StringComparer.Ordinal))
        {
            if (MayBeParent(parent) && children[parent].Count(c => seen.Contains(c) || chosen.Contains(c)) >= siblings)
            {
                chosen.Add(parent);
            }
        }

        foreach (var name in seen)
        {
            // The highest chosen ancestor, or the name itself when it was chosen as a parent.
            string? top = null;
            for (var node = name; ; node = node[(node.IndexOf('.', StringComparison.Ordinal) + 1)..])
            {
                if (chosen.Contains(node))
                {
                    top = node;
                }

                if (!node.Contains('.', StringComparison.Ordinal))
                {
                    break;
                }
            }

            if (top is not null)
            {
                patterns[name] = "." + top;
            }
        }

        return patterns;
    }

    private static int SiteLabels(string[] labels) =>
        labels.Length >= 2 && labels[^1].Length == 2 && GenericSecondLevels.Contains(labels[^2]) ? 3 : 2;

    private static int LabelCount(string name) => name.Count(c => c == '.') + 1;
}
