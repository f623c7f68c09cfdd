using System.Net;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Topology;

/// <summary>NAT gateways in a topology: read from natGateways, a route target like an instance, and held to AWS's rules.</summary>
public sealed class NatGatewayTopologyTests
{
    internal static string NatGatewayTopologyPath => Path.Combine(AppContext.BaseDirectory, "topologies", "nat-gateway.yaml");

    /// <summary>Parses nat-gateway.yaml with one text replaced (the replaced text must occur exactly once).</summary>
    internal static TopologyLoadResult ParseWith(string oldText, string newText)
    {
        var text = File.ReadAllText(NatGatewayTopologyPath);
        var at = text.IndexOf(oldText, StringComparison.Ordinal);
        Assert.True(at >= 0 && text.IndexOf(oldText, at + 1, StringComparison.Ordinal) < 0, $"'{oldText}' must occur once in nat-gateway.yaml");
        return TopologyLoader.Parse(text.Replace(oldText, newText, StringComparison.Ordinal), "variant.yaml", TopologyFormat.Yaml);
    }

    [Fact]
    public void Load_NatGatewayTopology_HasTheGatewayAndASubnetRoutedToIt()
    {
        var loaded = TopologyLoader.Load(NatGatewayTopologyPath);

        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        var model = loaded.Model!;
        var gateway = Assert.Single(model.NatGateways);
        Assert.Equal(new NatGatewaySpec("natgw", "public", IPAddress.Parse("10.10.1.50"), IPAddress.Parse("203.0.113.20")), gateway);
        Assert.Equal("natgw", Assert.Single(model.RouteTable("private-natgw").Routes).Target);
        Assert.Equal((IPAddress.Parse("10.10.1.50"), "public"), model.RouteHop("natgw"));
        Assert.Contains((IPAddress.Parse("10.10.1.50"), IPAddress.Parse("203.0.113.20")), model.ElasticIpMappings());
    }

    [Fact]
    public void Load_DefaultTopology_HasNoNatGateway()
    {
        Assert.Empty(TopologyLoader.Load(DefaultTopology.Path).Model!.NatGateways);
    }

    public static TheoryData<string, string, string, string> Invalid => new()
    {
        // A public NAT gateway sends everything to the Internet Gateway, so it must sit in a subnet that routes there.
        { "in a private subnet", "    subnet: public\n    privateIp: 10.10.1.50\n", "    subnet: private\n    privateIp: 10.10.2.50\n", "whose route table 'private' has no default route to the internet gateway" },
        { "without an Elastic IP", "    elasticIp: 203.0.113.20\n", "", "missing required field 'elasticIp'" },
        { "with a security group", "    elasticIp: 203.0.113.20\n", "    elasticIp: 203.0.113.20\n    securityGroups: [nat]\n", "unknown field 'securityGroups'" },
        { "named like an instance", "  - name: natgw\n", "  - name: nat\n", "is also an instance's name" },
        { "holding the NAT instance's Elastic IP", "    elasticIp: 203.0.113.20\n", "    elasticIp: 203.0.113.10\n", "elastic IP 203.0.113.10 is already used" },
        { "holding an instance's address", "    privateIp: 10.10.1.50\n", "    privateIp: 10.10.1.10\n", "private address 10.10.1.10 is already used" },
        { "outside its subnet", "    privateIp: 10.10.1.50\n", "    privateIp: 10.10.9.50\n", "is outside its subnet 'public'" },
        { "a route to a gateway that is not there", "        target: natgw", "        target: natgateway", "route to unknown target 'natgateway'" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Load_NatGatewayBreakingARule_IsReportedWithAFix(string variant, string oldText, string newText, string expected)
    {
        var loaded = ParseWith(oldText, newText);

        Assert.False(loaded.Succeeded, $"{variant}: loaded");
        var error = Assert.Single(loaded.Errors, e => e.Message.Contains(expected, StringComparison.Ordinal));
        Assert.False(string.IsNullOrWhiteSpace(error.Fix), $"{variant}: no fix");
        Assert.NotNull(error.Line);
    }
}
