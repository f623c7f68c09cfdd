using System.Text.Json.Nodes;
using EgressLab.Provisioner.CloudFormation;

namespace EgressLab.Provisioner.Tests.CloudFormation;

/// <summary>
/// The template validator on the rendered default template, broken one way at a time: each break is caught, by the
/// resource and property at fault, with a message that says what is wrong.
/// </summary>
public sealed class TemplateValidatorTests
{
    private static JsonObject Template() => TemplateRendererTests.RenderDefault();

    private static JsonObject Properties(JsonObject template, string id) => (JsonObject)template["Resources"]![id]!["Properties"]!;

    private static TemplateFinding Single(IReadOnlyList<TemplateFinding> findings, string resource, string property, string messagePart)
    {
        var matching = findings.Where(f => f.Resource == resource && f.Property == property).ToList();
        Assert.True(matching.Count > 0, $"expected a finding on {resource}.{property}; got:\n{string.Join("\n", findings)}");
        var finding = Assert.Single(matching);
        Assert.Contains(messagePart, finding.ToString(), StringComparison.Ordinal);
        return finding;
    }

    [Fact]
    public void Validate_TheRenderedDefault_HasNoFindings()
    {
        Assert.Empty(TemplateValidator.Validate(Template()));
    }

    [Fact]
    public void Validate_UnknownProperty_IsNamedWithAHint()
    {
        var template = Template();
        var nat = Properties(template, "NatNetworkInterface");
        nat["SourceDestChek"] = false;

        var findings = TemplateValidator.Validate(template);

        Single(findings, "NatNetworkInterface", "Properties.SourceDestChek", "SourceDestCheck");
    }

    [Fact]
    public void Validate_MissingRequiredProperty_IsNamed()
    {
        var template = Template();
        Properties(template, "PublicDefaultRoute").Remove("RouteTableId");

        var findings = TemplateValidator.Validate(template);

        Assert.Contains(findings, f => f.Resource == "PublicDefaultRoute" && f.ToString().Contains("RouteTableId", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_DanglingRef_IsNamedWithTheClosestName()
    {
        var template = Template();
        Properties(template, "PrivateDefaultRoute")["NetworkInterfaceId"] = new JsonObject { ["Ref"] = "NatNetworkInterfac" };

        var findings = TemplateValidator.Validate(template);

        var finding = Single(findings, "PrivateDefaultRoute", "Properties.NetworkInterfaceId.Ref", "'NatNetworkInterfac'");
        Assert.Contains("Did you mean 'NatNetworkInterface'?", finding.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Fn::GetAtt", "NatEipp", "AllocationId", "not a resource")]
    [InlineData("Fn::GetAtt", "NatEip", "Allocation", "has no attribute 'Allocation'")]
    public void Validate_DanglingGetAtt_IsNamed(string function, string resource, string attribute, string messagePart)
    {
        var template = Template();
        Properties(template, "NatEipAssociation")["AllocationId"] = new JsonObject { [function] = new JsonArray(resource, attribute) };

        var findings = TemplateValidator.Validate(template);

        Single(findings, "NatEipAssociation", $"Properties.AllocationId.{function}", messagePart);
    }

    [Fact]
    public void Validate_SubVariableThatIsNotAParameterOrResource_IsNamed()
    {
        var template = Template();
        var tags = Properties(template, "Vpc")["Tags"]!.AsArray();
        tags[0]!["Value"] = new JsonObject { ["Fn::Sub"] = "${AWS::StackName}-${Nope}" };

        var findings = TemplateValidator.Validate(template);

        Single(findings, "Vpc", "Properties.Tags[0].Value.Fn::Sub", "'Nope'");
    }

    [Fact]
    public void Validate_OverlappingSubnet_IsCaught()
    {
        var template = Template();
        Properties(template, "PrivateSubnet")["CidrBlock"] = "10.10.1.128/25";

        var findings = TemplateValidator.Validate(template);

        Assert.Contains(findings, f => f.Resource == "PrivateSubnet" && f.Property == "Properties.CidrBlock" && f.Message.Contains("overlaps subnet PublicSubnet", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_SubnetOutsideTheVpc_IsCaught()
    {
        var template = Template();
        Properties(template, "PrivateSubnet")["CidrBlock"] = "10.20.2.0/24";

        var findings = TemplateValidator.Validate(template);

        Assert.Contains(findings, f => f.Resource == "PrivateSubnet" && f.Message.Contains("not inside the VPC's range 10.10.0.0/16", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_CidrWithHostBits_IsCaughtWithTheNetworkAddress()
    {
        var template = Template();
        Properties(template, "PublicSubnet")["CidrBlock"] = "10.10.1.5/24";

        var findings = TemplateValidator.Validate(template);

        var finding = Assert.Single(findings, f => f.Resource == "PublicSubnet" && f.Property == "Properties.CidrBlock");
        Assert.Contains("10.10.1.0/24", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RouteWithTwoTargetsOrNone_IsCaught()
    {
        var template = Template();
        Properties(template, "PrivateDefaultRoute")["GatewayId"] = new JsonObject { ["Ref"] = "IgwInternetGateway" };
        Properties(template, "PublicDefaultRoute").Remove("GatewayId");

        var findings = TemplateValidator.Validate(template);

        Single(findings, "PrivateDefaultRoute", "Properties", "2 targets (GatewayId, NetworkInterfaceId)");
        Single(findings, "PublicDefaultRoute", "Properties", "has no target");
    }

    [Fact]
    public void Validate_SubnetWithTwoRouteTablesOrNone_IsCaught()
    {
        var template = Template();
        var resources = (JsonObject)template["Resources"]!;
        resources["ExtraAssociation"] = new JsonObject
        {
            ["Type"] = "AWS::EC2::SubnetRouteTableAssociation",
            ["Properties"] = new JsonObject { ["SubnetId"] = new JsonObject { ["Ref"] = "PublicSubnet" }, ["RouteTableId"] = new JsonObject { ["Ref"] = "PrivateRouteTable" } },
        };
        resources.Remove("PrivateSubnetRouteTableAssociation");

        var findings = TemplateValidator.Validate(template);

        Single(findings, "ExtraAssociation", "Properties.SubnetId", "second route table");
        Single(findings, "PrivateSubnet", "", "main route table");
    }

    [Fact]
    public void Validate_NatInterfaceWithTheCheckOn_IsCaught()
    {
        var template = Template();
        Properties(template, "NatNetworkInterface")["SourceDestCheck"] = true;

        var findings = TemplateValidator.Validate(template);

        Single(findings, "NatNetworkInterface", "Properties.SourceDestCheck", "source/destination check is on");
    }

    [Fact]
    public void Validate_RouteToAnInstanceWithTheCheckLeftOn_IsCaught()
    {
        var template = Template();
        var route = Properties(template, "PrivateDefaultRoute");
        route.Remove("NetworkInterfaceId");
        route["InstanceId"] = new JsonObject { ["Ref"] = "Private2Instance" };

        var findings = TemplateValidator.Validate(template);

        Single(findings, "Private2Instance", "Properties.SourceDestCheck", "is the target of route PrivateDefaultRoute");
    }

    [Fact]
    public void Validate_GatewayRouteWithoutDependsOnTheAttachment_IsCaught()
    {
        var template = Template();
        ((JsonObject)template["Resources"]!["PublicDefaultRoute"]!).Remove("DependsOn");

        var findings = TemplateValidator.Validate(template);

        Single(findings, "PublicDefaultRoute", "DependsOn", "IgwInternetGatewayAttachment");
    }

    [Theory]
    [InlineData(70000, 70000, "FromPort", "not a port")]
    [InlineData(443, 80, "ToPort", "ends before it starts")]
    public void Validate_BadSecurityGroupPorts_AreCaught(int from, int to, string property, string messagePart)
    {
        var template = Template();
        var rule = Properties(template, "ProxySecurityGroup")["SecurityGroupIngress"]![0]!.AsObject();
        rule["FromPort"] = from;
        rule["ToPort"] = to;

        var findings = TemplateValidator.Validate(template);

        Assert.Contains(findings, f => f.Resource == "ProxySecurityGroup" && f.Property == $"Properties.SecurityGroupIngress[0].{property}" && f.Message.Contains(messagePart, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_DuplicatePrivateAddressOrOneOutsideItsSubnet_IsCaught()
    {
        var template = Template();
        Properties(template, "Private2Instance")["PrivateIpAddress"] = "10.10.2.101";
        Properties(template, "Public1NetworkInterface")["PrivateIpAddress"] = "10.10.2.10";

        var findings = TemplateValidator.Validate(template);

        Single(findings, "Private2Instance", "Properties.PrivateIpAddress", "also Private1Instance's address");
        Single(findings, "Public1NetworkInterface", "Properties.PrivateIpAddress", "not in its subnet PublicSubnet");
    }

    [Fact]
    public void Validate_ReferenceToAResourceThatOnlyTheFleetHas_IsCaughtForTheSingleInstanceVariant()
    {
        var template = Template();
        var outputs = (JsonObject)template["Outputs"]!;
        outputs["Balancer"] = new JsonObject { ["Value"] = new JsonObject { ["Fn::GetAtt"] = new JsonArray("ProxyLoadBalancer", "DNSName") } };

        var findings = TemplateValidator.Validate(template);

        // Once for each single-instance variant: the defaults, the policy in SSM, and the CloudWatch agent off.
        var matching = findings.Where(f => f.Resource == "Outputs" && f.Property == "Balancer.Value.Fn::GetAtt").ToList();
        Assert.Equal(3, matching.Count);
        Assert.All(matching, f => Assert.Contains("reads an attribute of 'ProxyLoadBalancer', which does not exist when", f.Message, StringComparison.Ordinal));
        Assert.Contains(matching, f => f.Message.Contains("does not exist when the parameters have their defaults", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ReferenceToTheSingleInstanceFromTheFleet_IsCaughtForTheFleetVariant()
    {
        var template = Template();
        var group = Properties(template, "ProxyAutoScalingGroup");
        group["Tags"] = new JsonArray(new JsonObject { ["Key"] = "peer", ["Value"] = new JsonObject { ["Ref"] = "ProxyInstance" }, ["PropagateAtLaunch"] = false });

        var findings = TemplateValidator.Validate(template);

        var finding = Single(findings, "ProxyAutoScalingGroup", "Properties.Tags[0].Value.Ref", "'ProxyInstance'");
        Assert.Contains("ProxyFleetSize=20", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UnknownConditionOrDependsOn_IsCaught()
    {
        var template = Template();
        var instance = (JsonObject)template["Resources"]!["ProxyInstance"]!;
        instance["Condition"] = "SingleProxi";
        ((JsonObject)template["Resources"]!["Private1Instance"]!)["DependsOn"] = "NatInstanc";

        var findings = TemplateValidator.Validate(template);

        Assert.Contains(findings, f => f.Resource == "ProxyInstance" && f.Property == "Condition" && f.Fix.Contains("SingleProxy", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Resource == "Private1Instance" && f.Property == "DependsOn" && f.Fix.Contains("NatInstance", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ProxyFleetSize", "0", "below MinValue")]
    [InlineData("ProxyFleetSize", "many", "not a number")]
    [InlineData("ProxyPackageUrl", "http://example.com/p.tar.gz", "AllowedPattern")]
    [InlineData("ProxyPackageSha256", "abc", "AllowedPattern")]
    [InlineData("ProxyFleetSise", "3", "no such parameter")]
    public void Validate_BadParameterValues_AreCaught(string name, string value, string messagePart)
    {
        var findings = TemplateValidator.Validate(Template(), new Dictionary<string, string> { [name] = value });

        Assert.Contains(findings, f => f.Resource == "Parameters" && f.Property == name && f.Message.Contains(messagePart, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_UnknownSectionAndResourceAttribute_AreCaught()
    {
        var template = Template();
        template["Output"] = new JsonObject();
        ((JsonObject)template["Resources"]!["Vpc"]!)["Propertes"] = new JsonObject();

        var findings = TemplateValidator.Validate(template);

        Assert.Contains(findings, f => f.Resource == "template" && f.Property == "Output" && f.Fix.Contains("Outputs", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Resource == "Vpc" && f.Property == "Propertes" && f.Fix.Contains("Properties", StringComparison.Ordinal));
    }
}
