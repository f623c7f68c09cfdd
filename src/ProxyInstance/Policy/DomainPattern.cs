using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Policy;

/// <summary>One destination name pattern from configuration, parsed and normalised.</summary>
/// <remarks>
/// <c>example.com</c> matches that name only; <c>.example.com</c> matches it and every subdomain;
/// <c>*.example.com</c> matches subdomains only, at any depth. Comparison ignores case and one trailing dot,
/// and internationalised names compare in their punycode form, so <c>bücher.example</c> and
/// <c>xn--bcher-kva.example</c> are the same pattern.
/// </remarks>
internal readonly record struct DomainPattern
{
    private DomainPattern(DomainPatternKind kind, string name)
    {
        Kind = kind;
        Name = name;
    }

    public DomainPatternKind Kind { get; }

    /// <summary>The normalised name the pattern is anchored at, without any <c>.</c> or <c>*.</c> prefix.</summary>
    public string Name { get; }

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong and how to fix it.</summary>
    public static bool TryParse(string? text, out DomainPattern pattern, [NotNullWhen(false)] out string? error)
    {
        pattern = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "a domain pattern must not be empty; write a name such as 'example.com', '.example.com' or '*.example.com'";
            return false;
        }

        var kind = DomainPatternKind.Exact;
        ReadOnlySpan<char> body = text;
        if (body.StartsWith("*."))
        {
            kind = DomainPatternKind.SubdomainsOnly;
            body = body[2..];
        }
        else if (body.StartsWith('.'))
        {
            kind = DomainPatternKind.NameAndSubdomains;
            body = body[1..];
        }

        if (text == "*" || (kind == DomainPatternKind.SubdomainsOnly && body is "" or "."))
        {
            error = $"'{text}' is not a valid domain pattern: a wildcard needs a parent domain, as in '*.example.com'; "
                + "to match every name, leave Domains out of the rule";
            return false;
        }

        if (body.Contains('*'))
        {
            error = $"'{text}' is not a valid domain pattern: a wildcard may only be the whole first label, as in '*.example.com'";
            return false;
        }

        var unbracketed = body.Length > 2 && body[0] == '[' && body[^1] == ']' ? body[1..^1] : body;
        if (IPAddress.TryParse(unbracketed, out var address) && (unbracketed.Contains(':') || unbracketed.Count('.') == 3))
        {
            var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            error = $"'{text}' is an IP address, not a domain name; put addresses in DestinationCidrs, as in '{address}/{bits}'";
            return false;
        }

        if (body.ContainsAny("/:"))
        {
            error = $"'{text}' is not a valid domain pattern: write the host name only, without scheme, port or path, "
                + "as in 'example.com'";
            return false;
        }

        Span<char> buffer = stackalloc char[HostName.MaxLength];
        var status = HostName.Normalize(body, buffer, strict: true, out var written, out var problem);
        if (status != HostNameStatus.Valid)
        {
            error = $"'{text}' is not a valid domain pattern: {Describe(status, buffer[problem])}";
            return false;
        }

        var name = buffer[..written];
        var lastLabel = name[(name.LastIndexOf('.') + 1)..];
        if (IsAllDigits(lastLabel))
        {
            // RFC 3696 section 2: no top-level domain is all-numeric, so this is a mistyped address, and addresses
            // are never compared with names.
            error = $"'{text}' is not a valid domain pattern: its last label '{lastLabel}' is all digits, which no top-level domain is (RFC 3696 section 2)";
            return false;
        }

        pattern = new DomainPattern(kind, name.ToString());
        error = null;
        return true;
    }

    /// <summary>Whether <paramref name="host"/>, as received (any case, trailing dot, Unicode), matches this pattern.</summary>
    /// <remarks>Convenience for single checks; <see cref="DomainSet"/> is the fast path for many patterns.</remarks>
    public bool Matches(string host)
    {
        Span<char> buffer = stackalloc char[HostName.MaxLength];
        return HostName.Normalize(host, buffer, strict: false, out var written, out _) == HostNameStatus.Valid
            && MatchesNormalized(buffer[..written]);
    }

    /// <summary>Whether an already normalised host (see <see cref="HostName.Normalize"/>) matches this pattern.</summary>
    public bool MatchesNormalized(ReadOnlySpan<char> host)
    {
        if (host.Length == Name.Length)
        {
            return Kind != DomainPatternKind.SubdomainsOnly && host.SequenceEqual(Name);
        }

        return Kind != DomainPatternKind.Exact
            && host.Length > Name.Length
            && host[^(Name.Length + 1)] == '.'
            && host.EndsWith(Name, StringComparison.Ordinal);
    }

    /// <summary>The pattern in its normalised written form, e.g. <c>*.xn--bcher-kva.example</c>.</summary>
    public override string ToString() => Kind switch
    {
        DomainPatternKind.NameAndSubdomains => "." + Name,
        DomainPatternKind.SubdomainsOnly => "*." + Name,
        _ => Name,
    };

    private static string Describe(HostNameStatus status, ReadOnlySpan<char> label) => status switch
    {
        HostNameStatus.Empty => "there is no name after the leading '.' or '*.'; write it as in '.example.com'",
        HostNameStatus.TooLong => $"a name may be at most {HostName.MaxLength} characters long (RFC 1035 section 2.3.4)",
        HostNameStatus.EmptyLabel => "it has an empty label; labels are separated by single dots, and only one trailing dot is allowed",
        HostNameStatus.LabelTooLong => $"label '{label}' is {label.Length} characters long; a label may be at most {HostName.MaxLabelLength} (RFC 1035 section 2.3.4)",
        HostNameStatus.InvalidCharacter => $"label '{label}' has a character other than a letter, digit, hyphen or underscore (RFC 1123 section 2.1)",
        HostNameStatus.HyphenAtLabelEdge => $"label '{label}' starts or ends with a hyphen, which RFC 1123 section 2.1 does not allow",
        HostNameStatus.InvalidInternationalName => "it is not a valid internationalised domain name (RFC 5891); write its punycode ('xn--') form instead",
        _ => $"it is not a valid name ({status})",
    };

    private static bool IsAllDigits(ReadOnlySpan<char> label)
    {
        foreach (var c in label)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
