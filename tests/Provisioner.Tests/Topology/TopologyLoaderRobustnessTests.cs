using System.Text.RegularExpressions;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Topology;

/// <summary>
/// Mangled versions of the default topology, from a fixed seed: whatever the text, Parse returns errors and never
/// throws, and a result never holds both a model and errors. YamlDotNet throws non-YAML exceptions for some input,
/// which this found.
/// </summary>
public sealed partial class TopologyLoaderRobustnessTests
{
    private const string Characters = "[]{}:,-\"' \n\t#&*!|>0123456789./abc";

    private static readonly string[] Values =
        ["", "[]", "{}", "null", "-1", "0", "0.0.0.0/0", "0.0.0.0/32", "255.255.255.255/32", "99999999999", "x", "[a, [b]]", "{ a: 1 }", "true", "\"\"", "nat", "igw", "private", "icmp", "65536", "0-0", "10.10.2.3"];

    [Theory]
    [InlineData("Yaml")]
    [InlineData("Json")]
    public void Parse_TextWithRandomCharacterEdits_ReportsErrorsWithoutThrowing(string format)
    {
        var text = format == "Json" ? File.ReadAllText(Path.Combine(TopologyFixtures.Directory, "default.json")) : TopologyFixtures.DefaultText;
        var random = new Random(20251121);
        for (var i = 0; i < 1500; i++)
        {
            var mangled = RandomTextEdits.Apply(random, text, Characters);

            AssertWellFormed(TopologyLoader.Parse(mangled, "mangled", Enum.Parse<TopologyFormat>(format)));
        }
    }

    [Fact]
    public void Parse_FieldsWithRandomValues_ReportsErrorsWithoutThrowing()
    {
        var lines = TopologyFixtures.DefaultText.Split('\n');
        var fieldLines = Enumerable.Range(0, lines.Length).Where(n => FieldLine().IsMatch(lines[n])).ToList();
        var random = new Random(20251121);
        for (var i = 0; i < 600; i++)
        {
            var copy = (string[])lines.Clone();
            for (var edit = random.Next(1, 4); edit > 0; edit--)
            {
                var n = fieldLines[random.Next(fieldLines.Count)];
                copy[n] = $"{copy[n][..(copy[n].IndexOf(':', StringComparison.Ordinal) + 1)]} {Values[random.Next(Values.Length)]}";
            }

            AssertWellFormed(TopologyLoader.Parse(string.Join('\n', copy), "mangled", TopologyFormat.Yaml));
        }
    }

    [Theory]
    [InlineData("Yaml")]
    [InlineData("Json")]
    public void Parse_DeeplyNestedDocument_ReportsAnErrorInsteadOfOverflowingTheStack(string format)
    {
        var nested = new string('[', 100_000) + new string(']', 100_000);
        var text = format == "Json" ? $"{{\"name\": {nested}}}" : $"name: {nested}\n";

        var error = Assert.Single(TopologyLoader.Parse(text, "deep", Enum.Parse<TopologyFormat>(format)).Errors);

        Assert.Equal(1, error.Line);
    }

    private static void AssertWellFormed(TopologyLoadResult result)
    {
        Assert.True(result.Model is null != (result.Errors.Count == 0), "a result holds either a model or errors");
        Assert.All(result.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Item) || string.IsNullOrWhiteSpace(e.Message) || string.IsNullOrWhiteSpace(e.Fix), $"incomplete error: {e}"));
    }

    [GeneratedRegex(@"^\s*-?\s*[a-zA-Z]+:")]
    private static partial Regex FieldLine();
}
