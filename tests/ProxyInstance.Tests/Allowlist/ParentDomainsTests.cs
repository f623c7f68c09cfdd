using EgressLab.ProxyInstance.Allowlist;

namespace EgressLab.ProxyInstance.Tests.Allowlist;

public sealed class ParentDomainsTests
{
    [Fact]
    public void Collapse_FewerSiblingsThanThreshold_KeepsExactNames()
    {
        var patterns = ParentDomains.Collapse(["a.example.com", "b.example.com"], siblings: 3);

        Assert.Equal("a.example.com", patterns["a.example.com"]);
        Assert.Equal("b.example.com", patterns["b.example.com"]);
    }

    [Fact]
    public void Collapse_SiblingsAtThreshold_SuggestsTheParentForAllOfThemAndTheParentName()
    {
        var patterns = ParentDomains.Collapse(["a.example.com", "b.example.com", "c.example.com", "example.com", "x.y.example.com", "other.example.net"], siblings: 3);

        Assert.All(["a.example.com", "b.example.com", "c.example.com", "example.com", "x.y.example.com"], n => Assert.Equal(".example.com", patterns[n]));
        Assert.Equal("other.example.net", patterns["other.example.net"]);
    }

    [Fact]
    public void Collapse_SiblingsDeeperDown_StopAtTheirOwnParent()
    {
        var patterns = ParentDomains.Collapse(["a.api.example.com", "b.api.example.com", "c.api.example.com", "x.cdn.example.com"], siblings: 3);

        Assert.Equal(".api.example.com", patterns["b.api.example.com"]);
        Assert.Equal("x.cdn.example.com", patterns["x.cdn.example.com"]);
    }

    [Fact]
    public void Collapse_SiblingsUnderAPublicSuffix_StayExactNames()
    {
        // s3.amazonaws.com is a public suffix: each bucket name below it is someone else's.
        string[] buckets = ["one.s3.amazonaws.com", "two.s3.amazonaws.com", "three.s3.amazonaws.com"];

        var patterns = ParentDomains.Collapse(buckets, siblings: 3);

        Assert.All(buckets, n => Assert.Equal(n, patterns[n]));
        Assert.False(ParentDomains.MayBeParent("s3.amazonaws.com"));
        Assert.True(ParentDomains.MayBeParent("example.com"));
    }

    [Fact]
    public void Collapse_ChosenParentsCountAsSiblings_CascadeUpwards()
    {
        string[] names = ["a.x.example.com", "b.x.example.com", "a.y.example.com", "b.y.example.com", "www.example.com"];

        var patterns = ParentDomains.Collapse(names, siblings: 2);

        Assert.All(names, n => Assert.Equal(".example.com", patterns[n]));
    }

    [Theory]
    // Never above a registrable domain: no ".com", no ".co.uk", however many names.
    [InlineData("a.com", "b.com", "c.com")]
    [InlineData("a.co.uk", "b.co.uk", "c.co.uk")]
    [InlineData("shop.com.au", "news.com.au", "bank.com.au")]
    public void Collapse_SiblingsDirectlyBelowAPublicSuffix_AreNeverGeneralised(string a, string b, string c)
    {
        var patterns = ParentDomains.Collapse([a, b, c], siblings: 2);

        Assert.All([a, b, c], n => Assert.Equal(n, patterns[n]));
    }

    [Fact]
    public void Collapse_BelowACountryCodeSecondLevel_MayGeneraliseToTheRegistrableDomain()
    {
        var patterns = ParentDomains.Collapse(["a.example.co.uk", "b.example.co.uk"], siblings: 2);

        Assert.Equal(".example.co.uk", patterns["a.example.co.uk"]);
    }

    [Fact]
    public void Collapse_ThresholdZero_KeepsEveryName()
    {
        var patterns = ParentDomains.Collapse(["a.example.com", "b.example.com", "c.example.com"], siblings: 0);

        Assert.Equal("a.example.com", patterns["a.example.com"]);
    }

    [Theory]
    [InlineData("www.example.com", "example.com")]
    [InlineData("example.com", "example.com")]
    [InlineData("a.b.example.co.uk", "example.co.uk")]
    [InlineData("co.uk", "co.uk")]
    [InlineData("localhost", "localhost")]
    public void Site_Name_IsItsRegistrableDomainGuess(string name, string site) => Assert.Equal(site, ParentDomains.Site(name));
}
