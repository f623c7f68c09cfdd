using System.Text.Json.Nodes;
using EgressLab.Provisioner.CloudFormation;
using EgressLab.Provisioner.Tests.Topology;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.CloudFormation;

/// <summary>A topology's NAT gateway in the template: the gateway, its Elastic IP, and the private route to it.</summary>
public sealed class TemplateRendererNatGatewayTests
{
    private static JsonObject RenderNatGatewayTopology() => TemplateRendererTests.Render(TopologyLoader.Load(NatGatewayTopologyTests.NatGatewayTopologyPath));

    private static JsonObject Resource(JsonObject template, string id) =>
        Assert.IsType<JsonObject>(template["Resources"]![id], exactMatch: false);

    [Fact]
    public void Render_NatGatewayTopology_WritesThePublicGatewayWithItsElasticIpInThePublicSubnet()
    {
        var template = RenderNatGatewayTopology();

        var gateway = Resource(template, "NatgwNatGateway");
        Assert.Equal("AWS::EC2::NatGateway", (string?)gateway["Type"]);
        var properties = (JsonObject)gateway["Properties"]!;
        Assert.Equal("public", (string?)properties["ConnectivityType"]);
        Assert.Equal("PublicSubnet", (string?)properties["SubnetId"]!["Ref"]);
        Assert.Equal("10.10.1.50", (string?)properties["PrivateIpAddress"]);
        Assert.Equal(new JsonArray("NatgwNatGatewayEip", "AllocationId").ToJsonString(), properties["AllocationId"]!["Fn::GetAtt"]!.ToJsonString());

        // No security group and nothing to log in to: a NAT gateway has neither.
        Assert.Null(properties["SecurityGroupIds"]);
        Assert.Null(properties["KeyName"]);

        var eip = Resource(template, "NatgwNatGatewayEip");
        Assert.Equal("AWS::EC2::EIP", (string?)eip["Type"]);
        Assert.Equal("vpc", (string?)eip["Properties"]!["Domain"]);
        Assert.Equal("IgwInternetGatewayAttachment", (string?)eip["DependsOn"]);
        Assert.NotNull(template["Outputs"]!["NatgwNatGatewayEip"]);
    }

    [Fact]
    public void Render_NatGatewayTopology_RoutesItsPrivateSubnetToTheGatewayAndLeavesTheOtherOnTheNatInstance()
    {
        var template = RenderNatGatewayTopology();

        var route = (JsonObject)Resource(template, "PrivateNatgwDefaultRoute")["Properties"]!;
        Assert.Equal("NatgwNatGateway", (string?)route["NatGatewayId"]!["Ref"]);
        Assert.Null(route["NetworkInterfaceId"]);
        Assert.Equal("0.0.0.0/0", (string?)route["DestinationCidrBlock"]);
        Assert.Equal("NatNetworkInterface", (string?)Resource(template, "PrivateDefaultRoute")["Properties"]!["NetworkInterfaceId"]!["Ref"]);
    }

    [Fact]
    public void Render_NatGatewayTopology_ValidatesForFleetSizesOneAndThree()
    {
        var template = RenderNatGatewayTopology();

        foreach (var size in new[] { "1", "3" })
        {
            var findings = TemplateValidator.Validate(template, new Dictionary<string, string> { ["ProxyFleetSize"] = size });
            Assert.True(findings.Count == 0, $"ProxyFleetSize={size}:\n" + string.Join("\n", findings));
        }
    }

    [Fact]
    public void Render_DefaultTopology_HasNoNatGateway()
    {
        var resources = (JsonObject)TemplateRendererTests.RenderDefault()["Resources"]!;

        Assert.DoesNotContain(resources, r => (string?)r.Value!["Type"] == "AWS::EC2::NatGateway");
    }

    [Fact]
    public void Render_NatGatewayWithoutInternetGateway_IsRefusedWithTheReason()
    {
        var model = TopologyLoader.Load(NatGatewayTopologyTests.NatGatewayTopologyPath).Model!;

        var result = TemplateRenderer.Render(model with { InternetGateway = null }, asWritten: true);

        Assert.Null(result.Template);
        Assert.Contains(result.Problems, p => p.Contains("NAT gateway 'natgw' needs an Internet Gateway", StringComparison.Ordinal));
    }
}
