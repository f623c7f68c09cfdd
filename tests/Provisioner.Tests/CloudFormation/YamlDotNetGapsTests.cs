using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace EgressLab.Provisioner.Tests.CloudFormation;

/// <summary>
/// The YamlDotNet behaviours docs/decisions/0005 lists as known gaps, which the template reader and writer work
/// around. Each test pins the library's current answer to valid YAML, so an upgrade that fixes one fails here and
/// the note and the work-around can be corrected.
/// </summary>
public sealed class YamlDotNetGapsTests
{
    [Fact]
    public void Load_TwoDuplicateKeys_ThrowsOnTheFirstOnly()
    {
        var ex = Assert.ThrowsAny<YamlException>(() => Load("a: 1\nb: 2\na: 3\nb: 4\n"));

        Assert.Equal("Duplicate key a", ex.Message);
        Assert.Equal(3, ex.Start.Line);
    }

    [Fact]
    public void Load_PlainKeyWithSpaceAsterisk_ReadsTheWholeLineAsOneScalar()
    {
        // YAML 1.2.2 allows '*' inside a plain scalar (ns-plain-char); only a leading '*' starts an alias.
        var root = Load("a *b: c\n");

        var scalar = Assert.IsType<YamlScalarNode>(root);
        Assert.Equal("a *b: c", scalar.Value);
    }

    [Theory]
    [InlineData("k: |\n    \n  text\n")]
    // With an indentation indicator the two spaces past the indentation are text (l-nb-literal-text, section 8.1.2).
    [InlineData("k: |2\n    \n  text\n")]
    public void Load_LiteralBlockWithSpacesOnlyLineBeforeText_ThrowsExtraSpaces(string yaml)
    {
        var ex = Assert.ThrowsAny<YamlException>(() => Load(yaml));

        Assert.Contains("found extra spaces in first line", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MergeKey_IsAnOrdinaryKey()
    {
        var root = Assert.IsType<YamlMappingNode>(Load("base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n"));

        var merged = Assert.IsType<YamlMappingNode>(root.Children[new YamlScalarNode("d")]);
        Assert.Equal(["<<", "y"], merged.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
    }

    private static YamlNode Load(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Assert.Single(stream.Documents).RootNode;
    }
}
