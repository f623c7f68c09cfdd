using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Topology;

public sealed class NameSuggestionTests
{
    [Theory]
    [InlineData("cdir", "cidr")]
    [InlineData("CIDR", "cidr")]
    [InlineData("privateIP", "privateIp")]
    [InlineData("routetable", "routeTable")]
    [InlineData("sourceDestChek", "sourceDestCheck")]
    [InlineData("ports", null)]
    [InlineData("colour", null)]
    [InlineData("nme", "name")]
    public void Closest_MisspeltField_SuggestsTheKnownOneOrNothing(string name, string? expected)
    {
        string[] known = ["name", "cidr", "routeTable", "privateIp", "sourceDestCheck"];

        Assert.Equal(expected, NameSuggestion.Closest(name, known));
    }
}
