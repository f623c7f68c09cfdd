using EgressLab.ProxyInstance.Configuration;

namespace EgressLab.ProxyInstance.Tests.Configuration;

public sealed class PublicSuffixListTests
{
    [Fact]
    public void Embedded_ParsesTheWholeListWithItsDate()
    {
        var list = PublicSuffixList.Embedded;

        Assert.True(list.RuleCount > 9000, $"only {list.RuleCount} rules");
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", list.Date);
        Assert.Same(list, PublicSuffixList.Embedded);
    }

    [Theory]
    [InlineData("com", "com", "Icann", false)]
    [InlineData("co.uk", "co.uk", "Icann", false)]
    [InlineData("github.io", "github.io", "Private", false)]
    [InlineData("s3.amazonaws.com", "s3.amazonaws.com", "Private", false)]
    [InlineData("us-east-1.amazonaws.com", "us-east-1.amazonaws.com", "Private", false)]
    // Wildcard rules: *.er makes every name directly under er a suffix, and er the parent of them all.
    [InlineData("anything.er", "*.er", "Icann", false)]
    [InlineData("er", "*.er", "Icann", true)]
    [InlineData("eu-west-1.compute.amazonaws.com", "*.compute.amazonaws.com", "Private", false)]
    [InlineData("compute.amazonaws.com", "*.compute.amazonaws.com", "Private", true)]
    [InlineData("foo.ck", "*.ck", "Icann", false)]
    // Internationalised rules are compared in punycode (公司.cn).
    [InlineData("xn--55qx5d.cn", "xn--55qx5d.cn", "Icann", false)]
    public void TryMatch_PublicSuffixes_AreFoundWithTheirSection(string name, string suffix, string section, bool children)
    {
        Assert.True(PublicSuffixList.Embedded.TryMatch(name, out var match));

        Assert.Equal(new PublicSuffixMatch(suffix, Enum.Parse<PublicSuffixSection>(section), children), match);
    }

    [Theory]
    [InlineData("amazonaws.com")]
    [InlineData("example.co.uk")]
    [InlineData("example.github.io")]
    [InlineData("checkip.amazonaws.com")]
    // An exception rule (!www.ck) beats the wildcard (*.ck).
    [InlineData("www.ck")]
    // No implicit '*' rule: a label nobody registers under is not a public suffix.
    [InlineData("internal")]
    public void TryMatch_RegistrableOrUnlistedNames_AreNoSuffix(string name)
    {
        Assert.False(PublicSuffixList.Embedded.TryMatch(name, out _));
    }

    [Fact]
    public void Parse_SectionsWildcardsExceptionsAndTrailingWords()
    {
        var list = PublicSuffixList.Parse(new StringReader("""
            // ===BEGIN ICANN DOMAINS===
            test
            *.wild.test
            !keep.wild.test
            Bücher.test   trailing words are ignored
            // ===END ICANN DOMAINS===
            // ===BEGIN PRIVATE DOMAINS===
            pages.example
            // ===END PRIVATE DOMAINS===
            """), "2026-01-02");

        Assert.Equal("2026-01-02", list.Date);
        Assert.Equal(5, list.RuleCount);
        Assert.True(list.TryMatch("test", out var icann));
        Assert.Equal(PublicSuffixSection.Icann, icann.Section);
        Assert.True(list.TryMatch("a.wild.test", out _));
        Assert.False(list.TryMatch("keep.wild.test", out _));
        Assert.True(list.TryMatch("xn--bcher-kva.test", out _));
        Assert.True(list.TryMatch("pages.example", out var owned));
        Assert.Equal(PublicSuffixSection.Private, owned.Section);
        Assert.False(list.TryMatch("example", out _));
    }

    [Fact]
    public void Parse_InvalidRule_NamesTheLine()
    {
        var error = Assert.Throws<FormatException>(() => PublicSuffixList.Parse(new StringReader("com\na..b\n")));

        Assert.StartsWith("line 2: 'a..b'", error.Message, StringComparison.Ordinal);
    }
}
