namespace EgressLab.ProxyInstance.Policy;

/// <summary>The three forms a domain pattern can take.</summary>
internal enum DomainPatternKind
{
    /// <summary><c>example.com</c>: that name only.</summary>
    Exact,

    /// <summary><c>.example.com</c>: the name and every name below it, as in Squid's <c>dstdomain</c> and AWS Network Firewall.</summary>
    NameAndSubdomains,

    /// <summary><c>*.example.com</c>: every name below it, at any depth, but not the name itself.</summary>
    SubdomainsOnly,
}
