using System.Globalization;
using EgressLab.ProxyInstance.Policy;

namespace EgressLab.ProxyInstance.Tests.Policy;

public sealed class DomainSetTests
{
    private static readonly DomainSet Mixed = Create(
        "exact.example",
        ".tree.example",
        "*.wild.example",
        "bücher.example",
        "*.xn--mnchen-3ya.de",
        ".com.test");

    [Theory]
    [InlineData("exact.example", true)]
    [InlineData("EXACT.EXAMPLE.", true)]
    [InlineData("a.exact.example", false)]
    [InlineData("tree.example", true)]
    [InlineData("a.tree.example", true)]
    [InlineData("a.b.tree.example", true)]
    [InlineData("atree.example", false)]
    [InlineData("wild.example", false)]
    [InlineData("a.wild.example", true)]
    [InlineData("x.y.z.wild.example", true)]
    [InlineData("xn--bcher-kva.example", true)]
    [InlineData("Bücher.Example", true)]
    [InlineData("www.bücher.example", false)]
    [InlineData("münchen.de", false)]
    [InlineData("www.münchen.de", true)]
    [InlineData("com.test", true)]
    [InlineData("example.com.test", true)]
    [InlineData("test", false)]
    [InlineData("example", false)]
    [InlineData("other.example", false)]
    [InlineData("", false)]
    [InlineData(".", false)]
    [InlineData("a..tree.example", false)]
    public void Matches_MixedPatterns_AnyPatternDecides(string host, bool expected)
    {
        Assert.Equal(expected, Mixed.Matches(host));
    }

    [Fact]
    public void Count_DuplicatePatternsInAnySpelling_CountedOnce()
    {
        var set = Create("example.com", "EXAMPLE.com.", ".example.com", "*.example.com", "*.Example.Com");

        Assert.Equal(3, set.Count);
    }

    [Fact]
    public void Matches_ExactAndSubdomainsOnlyForSameName_CoversNameAndSubdomains()
    {
        var set = Create("example.com", "*.example.com");

        Assert.True(set.Matches("example.com"));
        Assert.True(set.Matches("www.example.com"));
        Assert.False(set.Matches("www.example.org"));
    }

    [Fact]
    public void Matches_TenThousandPatterns_DecidesEveryFormCorrectly()
    {
        var texts = new List<string>(10_000);
        for (var i = 0; i < 10_000; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"host{i}.example{i % 97}.com");
            texts.Add((i % 3) switch { 0 => name, 1 => "." + name, _ => "*." + name });
        }

        var set = Create([.. texts]);

        Assert.Equal(10_000, set.Count);
        for (var i = 0; i < 10_000; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"host{i}.example{i % 97}.com");
            var apexMatches = i % 3 != 2;
            var subdomainsMatch = i % 3 != 0;
            Assert.Equal(apexMatches, set.Matches(name));
            Assert.Equal(apexMatches, set.Matches(name.ToUpperInvariant() + "."));
            Assert.Equal(subdomainsMatch, set.Matches("a.b." + name));
            Assert.False(set.Matches("x" + name));
            Assert.False(set.Matches(string.Create(CultureInfo.InvariantCulture, $"host{i}.example{(i % 97) + 1}.com")));
        }
    }

    private static DomainSet Create(params string[] texts)
    {
        var patterns = new List<DomainPattern>();
        foreach (var text in texts)
        {
            Assert.True(DomainPattern.TryParse(text, out var pattern, out var error), error);
            patterns.Add(pattern);
        }

        return new DomainSet(patterns);
    }
}
