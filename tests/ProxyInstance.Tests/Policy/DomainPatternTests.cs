using EgressLab.ProxyInstance.Policy;

namespace EgressLab.ProxyInstance.Tests.Policy;

public sealed class DomainPatternTests
{
    [Theory]
    [InlineData("example.com", "Exact", "example.com", "example.com")]
    [InlineData("Example.COM.", "Exact", "example.com", "example.com")]
    [InlineData(".example.com", "NameAndSubdomains", "example.com", ".example.com")]
    [InlineData(".EXAMPLE.com.", "NameAndSubdomains", "example.com", ".example.com")]
    [InlineData("*.example.com", "SubdomainsOnly", "example.com", "*.example.com")]
    [InlineData("*.Example.Com.", "SubdomainsOnly", "example.com", "*.example.com")]
    [InlineData("*.amazonaws.com", "SubdomainsOnly", "amazonaws.com", "*.amazonaws.com")]
    [InlineData("bücher.example", "Exact", "xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("*.MÜNCHEN.de", "SubdomainsOnly", "xn--mnchen-3ya.de", "*.xn--mnchen-3ya.de")]
    [InlineData(".XN--BCHER-KVA.example", "NameAndSubdomains", "xn--bcher-kva.example", ".xn--bcher-kva.example")]
    [InlineData("_acme-challenge.example.com", "Exact", "_acme-challenge.example.com", "_acme-challenge.example.com")]
    [InlineData("localhost", "Exact", "localhost", "localhost")]
    [InlineData(".com", "NameAndSubdomains", "com", ".com")]
    [InlineData("*.com", "SubdomainsOnly", "com", "*.com")]
    [InlineData("1password.com", "Exact", "1password.com", "1password.com")]
    [InlineData("a1.b2.example", "Exact", "a1.b2.example", "a1.b2.example")]
    public void TryParse_ValidPattern_Normalises(string text, string kind, string name, string written)
    {
        Assert.True(DomainPattern.TryParse(text, out var pattern, out var error), error);

        Assert.Equal(Enum.Parse<DomainPatternKind>(kind), pattern.Kind);
        Assert.Equal(name, pattern.Name);
        Assert.Equal(written, pattern.ToString());
    }

    [Theory]
    [InlineData(null, "must not be empty")]
    [InlineData("", "must not be empty")]
    [InlineData("*", "a wildcard needs a parent domain")]
    [InlineData("*.", "a wildcard needs a parent domain")]
    [InlineData("*..", "a wildcard needs a parent domain")]
    [InlineData("a.*.com", "a wildcard may only be the whole first label, as in '*.example.com'")]
    [InlineData("*foo.com", "a wildcard may only be the whole first label")]
    [InlineData("foo*.com", "a wildcard may only be the whole first label")]
    [InlineData("**.example.com", "a wildcard may only be the whole first label")]
    [InlineData("*.*.example.com", "a wildcard may only be the whole first label")]
    [InlineData(".*.example.com", "a wildcard may only be the whole first label")]
    [InlineData("example.*", "a wildcard may only be the whole first label")]
    [InlineData(".", "there is no name after the leading")]
    [InlineData("..example.com", "empty label")]
    [InlineData("a..example.com", "empty label")]
    [InlineData("example.com..", "empty label")]
    [InlineData("*..example.com", "empty label")]
    [InlineData("-foo.example.com", "label '-foo' starts or ends with a hyphen")]
    [InlineData("foo-.example.com", "label 'foo-' starts or ends with a hyphen")]
    [InlineData("exa mple.com", "label 'exa mple' has a character other than")]
    [InlineData(" example.com", "has a character other than")]
    [InlineData("ex!ample.com", "label 'ex!ample' has a character other than")]
    [InlineData("https://example.com/", "without scheme, port or path")]
    [InlineData("example.com:443", "without scheme, port or path")]
    [InlineData("example.com/path", "without scheme, port or path")]
    [InlineData("10.0.0.1", "is an IP address, not a domain name; put addresses in DestinationCidrs, as in '10.0.0.1/32'")]
    [InlineData("*.10.0.0.1", "is an IP address")]
    [InlineData("2001:db8::1", "as in '2001:db8::1/128'")]
    [InlineData("[2001:db8::1]", "as in '2001:db8::1/128'")]
    [InlineData("127.1", "its last label '1' is all digits")]
    [InlineData("example.123", "its last label '123' is all digits")]
    [InlineData("bücher..example", "empty label")]
    [InlineData("bü!cher.example", "has a character other than")]
    public void TryParse_MalformedPattern_IsRejectedWithReason(string? text, string expectedMessagePart)
    {
        Assert.False(DomainPattern.TryParse(text, out _, out var error));

        Assert.Contains(expectedMessagePart, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_LabelTooLong_NamesTheLabelAndLimit()
    {
        var label = new string('x', 64);

        Assert.False(DomainPattern.TryParse($"*.{label}.example.com", out _, out var error));

        Assert.Contains($"label '{label}' is 64 characters long; a label may be at most 63", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_NameTooLong_SaysTheLimit()
    {
        var label = new string('x', 63);
        var text = string.Join('.', label, label, label, label);

        Assert.False(DomainPattern.TryParse(text, out _, out var error));

        Assert.Contains("at most 253 characters", error, StringComparison.Ordinal);
    }

    [Theory]
    // Exact: the name only.
    [InlineData("example.com", "example.com", true)]
    [InlineData("example.com", "EXAMPLE.com", true)]
    [InlineData("example.com", "example.com.", true)]
    [InlineData("example.com.", "Example.Com", true)]
    [InlineData("example.com", "www.example.com", false)]
    [InlineData("example.com", "notexample.com", false)]
    [InlineData("example.com", "example.com.evil.test", false)]
    [InlineData("example.com", "example.co", false)]
    [InlineData("example.com", "example.com..", false)]
    // .example.com: the name and every subdomain.
    [InlineData(".example.com", "example.com", true)]
    [InlineData(".example.com", "www.example.com", true)]
    [InlineData(".example.com", "a.b.c.example.com", true)]
    [InlineData(".example.com", "WWW.Example.COM.", true)]
    [InlineData(".example.com", "notexample.com", false)]
    [InlineData(".example.com", "www.notexample.com", false)]
    [InlineData(".example.com", "example.com.evil.test", false)]
    [InlineData(".example.com", "com", false)]
    // *.example.com: subdomains only, at any depth.
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("*.example.com", "www.example.com", true)]
    [InlineData("*.example.com", "a.b.c.example.com", true)]
    [InlineData("*.example.com", "WWW.EXAMPLE.COM.", true)]
    [InlineData("*.example.com", "wwwexample.com", false)]
    [InlineData("*.example.com", ".example.com", false)]
    [InlineData("*.amazonaws.com", "s3.eu-west-1.amazonaws.com", true)]
    // Internationalised names compare in punycode, whichever form each side is written in.
    [InlineData("bücher.example", "xn--bcher-kva.example", true)]
    [InlineData("xn--bcher-kva.example", "bücher.example", true)]
    [InlineData("xn--bcher-kva.example", "BÜCHER.example.", true)]
    [InlineData("*.münchen.de", "www.xn--mnchen-3ya.de", true)]
    [InlineData("*.xn--mnchen-3ya.de", "www.münchen.de", true)]
    [InlineData(".münchen.de", "münchen.de", true)]
    [InlineData("bücher.example", "bucher.example", false)]
    public void Matches_Host_FollowsPatternForm(string pattern, string host, bool expected)
    {
        Assert.True(DomainPattern.TryParse(pattern, out var parsed, out var error), error);

        Assert.Equal(expected, parsed.Matches(host));
    }
}
