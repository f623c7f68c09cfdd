using System.Globalization;

namespace EgressLab.ProxyInstance.Configuration;

/// <summary>Which part of the Public Suffix List a rule comes from.</summary>
internal enum PublicSuffixSection
{
    /// <summary>Top-level domains and the suffixes their registries publish (<c>com</c>, <c>co.uk</c>).</summary>
    Icann,

    /// <summary>Domains whose owners let others register names under them (<c>github.io</c>, <c>s3.amazonaws.com</c>).</summary>
    Private,
}

/// <summary>A public suffix found at a name: the suffix, its section, and whether it is the name's children that are suffixes.</summary>
/// <param name="Suffix">The rule as written in the list, in punycode: <c>co.uk</c>, or <c>*.bd</c> for a wildcard rule.</param>
/// <param name="Section">The list's section the rule is in.</param>
/// <param name="Children">
/// <see langword="true"/> when the name itself is not a public suffix but every name directly under it is (a
/// wildcard rule <c>*.name</c>).
/// </param>
internal readonly record struct PublicSuffixMatch(string Suffix, PublicSuffixSection Section, bool Children);

/// <summary>
/// The Public Suffix List (https://publicsuffix.org/list/), parsed once: the names under which others can register
/// their own names. The list is carried in the repository (<c>public_suffix_list.dat</c>, dated in
/// <c>public_suffix_list.version</c>) and updated by <c>deploy/update-public-suffix-list.sh</c>.
/// </summary>
/// <remarks>
/// Rules follow the list's format: one per line, <c>//</c> comments, <c>*.x</c> wildcards (every name directly under
/// <c>x</c> is a suffix) and <c>!y</c> exceptions (<c>y</c> is not, despite a wildcard). The implicit default rule
/// <c>*</c> of the list's algorithm is not applied: a single label the list does not name (<c>internal</c>,
/// <c>corp</c>) is nobody's registry, so a pattern under it is not a public-suffix wildcard.
/// </remarks>
internal sealed class PublicSuffixList
{
    private const string ResourceName = "EgressLab.ProxyInstance.public_suffix_list.dat";
    private const string VersionResourceName = "EgressLab.ProxyInstance.public_suffix_list.version";

    private static readonly Lazy<PublicSuffixList> EmbeddedList = new(LoadEmbedded);

    private readonly Dictionary<string, PublicSuffixSection> _rules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PublicSuffixSection> _wildcardParents = new(StringComparer.Ordinal);
    private readonly HashSet<string> _exceptions = new(StringComparer.Ordinal);

    private PublicSuffixList(string date) => Date = date;

    /// <summary>The list embedded in the proxy, parsed on first use.</summary>
    public static PublicSuffixList Embedded => EmbeddedList.Value;

    /// <summary>The date of the list, <c>yyyy-MM-dd</c>, or <c>unknown</c>.</summary>
    public string Date { get; }

    /// <summary>Number of rules (normal, wildcard and exception).</summary>
    public int RuleCount => _rules.Count + _wildcardParents.Count + _exceptions.Count;

    /// <summary>Parses a list in the Public Suffix List's format.</summary>
    /// <exception cref="FormatException">A rule is not a valid domain name.</exception>
    public static PublicSuffixList Parse(TextReader reader, string date = "unknown")
    {
        ArgumentNullException.ThrowIfNull(reader);
        var list = new PublicSuffixList(date);
        var idn = new IdnMapping { AllowUnassigned = true };
        var section = PublicSuffixSection.Icann;
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            var text = line.AsSpan().Trim();
            if (text.StartsWith("//"))
            {
                if (text.Contains("===BEGIN PRIVATE DOMAINS===", StringComparison.Ordinal))
                {
                    section = PublicSuffixSection.Private;
                }
                else if (text.Contains("===BEGIN ICANN DOMAINS===", StringComparison.Ordinal))
                {
                    section = PublicSuffixSection.Icann;
                }

                continue;
            }

            // A rule is the line's first word; anything after white space is ignored, as the format says.
            var end = text.IndexOfAny(' ', '\t');
            var rule = end < 0 ? text : text[..end];
            if (rule.IsEmpty)
            {
                continue;
            }

            if (rule[0] == '!')
            {
                list._exceptions.Add(ToAscii(idn, rule[1..], lineNumber));
            }
            else if (rule.StartsWith("*."))
            {
                list._wildcardParents[ToAscii(idn, rule[2..], lineNumber)] = section;
            }
            else
            {
                list._rules[ToAscii(idn, rule, lineNumber)] = section;
            }
        }

        return list;
    }

    /// <summary>
    /// Whether a normalised name (lower case, punycode, no trailing dot) is a public suffix, or the parent of a
    /// wildcard rule, so that a pattern covering its subdomains would cover names others register.
    /// </summary>
    public bool TryMatch(string name, out PublicSuffixMatch match)
    {
        ArgumentNullException.ThrowIfNull(name);
        match = default;
        if (_exceptions.Contains(name))
        {
            return false;
        }

        if (_rules.TryGetValue(name, out var section))
        {
            match = new PublicSuffixMatch(name, section, Children: false);
            return true;
        }

        var dot = name.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0 && _wildcardParents.TryGetValue(name[(dot + 1)..], out section))
        {
            match = new PublicSuffixMatch("*." + name[(dot + 1)..], section, Children: false);
            return true;
        }

        if (_wildcardParents.TryGetValue(name, out section))
        {
            match = new PublicSuffixMatch("*." + name, section, Children: true);
            return true;
        }

        return false;
    }

    private static string ToAscii(IdnMapping idn, ReadOnlySpan<char> rule, int lineNumber)
    {
        try
        {
            return idn.GetAscii(rule.ToString()).ToLowerInvariant();
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"line {lineNumber}: '{rule}' is not a valid domain name: {e.Message}", e);
        }
    }

    private static PublicSuffixList LoadEmbedded()
    {
        var assembly = typeof(PublicSuffixList).Assembly;
        var date = "unknown";
        using (var version = assembly.GetManifestResourceStream(VersionResourceName))
        {
            if (version is not null)
            {
                using var versionReader = new StreamReader(version);
                while (versionReader.ReadLine() is { } line)
                {
                    if (line.StartsWith("date=", StringComparison.Ordinal))
                    {
                        date = line["date=".Length..].Trim();
                    }
                }
            }
        }

        using var stream = assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the build.");
        using var reader = new StreamReader(stream);
        return Parse(reader, date);
    }
}
