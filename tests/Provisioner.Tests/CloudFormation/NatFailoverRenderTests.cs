using System.Text.Json.Nodes;
using EgressLab.Provisioner.CloudFormation;
using EgressLab.Provisioner.Tests.Topology;

namespace EgressLab.Provisioner.Tests.CloudFormation;

/// <summary>A NAT instance with <c>failover: asg-eni</c>: fck-nat's Auto Scaling group of one on a fixed network interface.</summary>
public sealed class NatFailoverRenderTests
{
    private static JsonObject RenderFailover() =>
        TemplateRendererTests.Render(TopologyFixtures.ParseDefaultWith("    role: nat\n", "    role: nat\n    failover: asg-eni\n"));

    private static JsonObject Resources(JsonObject template) => (JsonObject)template["Resources"]!;

    private static JsonObject Properties(JsonObject template, string id) => (JsonObject)Resources(template)[id]!["Properties"]!;

    [Fact]
    public void Render_FailoverAsgEni_ReplacesTheNatInstanceWithAGroupOfOneOnAFixedInterface()
    {
        var template = RenderFailover();

        Assert.DoesNotContain("NatInstance", Resources(template).Select(r => r.Key));
        var group = Properties(template, "NatAutoScalingGroup");
        Assert.Equal("AWS::AutoScaling::AutoScalingGroup", Resources(template)["NatAutoScalingGroup"]!["Type"]!.ToString());
        Assert.Equal("1", group["MinSize"]!.ToString());
        Assert.Equal("1", group["MaxSize"]!.ToString());
        Assert.Equal("1", group["DesiredCapacity"]!.ToString());
        Assert.Equal("EC2", group["HealthCheckType"]!.ToString());
        Assert.Equal("NatLaunchTemplate", group["LaunchTemplate"]!["LaunchTemplateId"]!["Ref"]!.ToString());
        Assert.Equal("PublicSubnet", group["VPCZoneIdentifier"]![0]!["Ref"]!.ToString());

        var eni = Properties(template, "NatNetworkInterface");
        Assert.False(eni["SourceDestCheck"]!.GetValue<bool>());
        Assert.Equal("10.10.1.100", eni["PrivateIpAddress"]!.ToString());
        Assert.Equal("NatNetworkInterface", Properties(template, "NatEipAssociation")["NetworkInterfaceId"]!["Ref"]!.ToString());

        // The private route points at the interface, never at an instance, so a replacement changes nothing in it.
        var route = Properties(template, "PrivateDefaultRoute");
        Assert.Equal("NatNetworkInterface", route["NetworkInterfaceId"]!["Ref"]!.ToString());
        Assert.Null(route["InstanceId"]);

        // Hosts that boot through the NAT wait for its group, as they wait for the single instance otherwise.
        var dependsOn = Resources(template)["Private1Instance"]!["DependsOn"]!.AsArray().Select(d => d!.ToString());
        Assert.Contains("NatAutoScalingGroup", dependsOn);
    }

    [Fact]
    public void Render_FailoverAsgEni_UserDataAttachesTheInterfaceThenRunsTheNatSetup()
    {
        var data = Properties(RenderFailover(), "NatLaunchTemplate")["LaunchTemplateData"]!;
        var (text, variables) = FnSub.Parts(data["UserData"]!);

        Assert.Equal("NatNetworkInterface", variables["NatInterface"]!["Ref"]!.ToString());
        Assert.Equal("10.10.1.1", variables["SubnetRouter"]!.ToString());
        var attach = text.IndexOf("aws ec2 attach-network-interface --network-interface-id \"$ENI\" --instance-id \"$INSTANCE_ID\" --device-index 1", StringComparison.Ordinal);
        var route = text.IndexOf("ip route replace default via '${SubnetRouter}' dev \"$ENI_IFACE\"", StringComparison.Ordinal);
        var masquerade = text.IndexOf("-j MASQUERADE", StringComparison.Ordinal);
        Assert.True(attach > 0 && route > attach && masquerade > route, text);
        // One script: the NAT instance's own first line (its shebang) is dropped; a shebang further down belongs to a
        // file the script writes (the conntrack reporter), not to the user-data.
        Assert.StartsWith("#!/bin/bash\n", text, StringComparison.Ordinal);
        Assert.Equal(
            text.Split('\n').Count(line => line.StartsWith("#!", StringComparison.Ordinal)),
            DeployAssets.UserDataScript(DeployAssets.NatInstanceScript).Split('\n').Count(line => line.StartsWith("#!", StringComparison.Ordinal)));
        // Like every instance's, it ends with the CloudWatch agent's install, fed the NAT's agent configuration.
        Assert.EndsWith(DeployAssets.UserDataScript(DeployAssets.CloudWatchAgentScript), text, StringComparison.Ordinal);
        Assert.Equal(TemplateRenderer.ShipToCloudWatch, variables["ShipToCloudWatch"]!["Fn::If"]![0]!.ToString());
        Assert.Contains("statsd", variables["CloudWatchAgentConfig"]!.ToJsonString(), StringComparison.Ordinal);
        // It reaches the EC2 API before it holds the fixed interface: a public address of its own.
        Assert.True(data["NetworkInterfaces"]![0]!["AssociatePublicIpAddress"]!.GetValue<bool>());
        Assert.Equal("NatFailoverInstanceProfile", data["IamInstanceProfile"]!["Arn"]!["Fn::GetAtt"]![0]!.ToString());
    }

    [Fact]
    public void Render_FailoverAsgEni_RoleAttachesOnlyTheFixedInterfaceToTheStacksNatInstances()
    {
        var role = Properties(RenderFailover(), TemplateRenderer.NatFailoverRoleId);
        var statements = role["Policies"]![0]!["PolicyDocument"]!["Statement"]!.AsArray().Select(s => (JsonObject)s!).ToList();

        Assert.Equal(["ec2:AttachNetworkInterface", "ec2:AttachNetworkInterface", "ec2:DescribeNetworkInterfaces"], statements.Select(s => s["Action"]!.ToString()));
        Assert.Equal("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:network-interface/${NatNetworkInterface}", statements[0]["Resource"]!["Fn::Sub"]!.ToString());
        Assert.Null(statements[0]["Condition"]);
        Assert.EndsWith(":instance/*", statements[1]["Resource"]!["Fn::Sub"]!.ToString(), StringComparison.Ordinal);
        Assert.Equal("${AWS::StackName}-nat", statements[1]["Condition"]!["StringEquals"]!["aws:ResourceTag/Name"]!["Fn::Sub"]!.ToString());
        // DescribeNetworkInterfaces has no resource-level permissions: "*" is the narrowest there is.
        Assert.Equal("*", statements[2]["Resource"]!.ToString());
        Assert.DoesNotContain(statements, s => s["Action"]!.ToString().Contains('*', StringComparison.Ordinal));
    }

    [Fact]
    public void Render_DefaultTopology_KeepsTheSingleNatInstance()
    {
        var resources = Resources(TemplateRendererTests.RenderDefault());

        Assert.Contains("NatInstance", resources.Select(r => r.Key));
        Assert.DoesNotContain("NatAutoScalingGroup", resources.Select(r => r.Key));
        Assert.DoesNotContain(TemplateRenderer.NatFailoverRoleId, resources.Select(r => r.Key));
    }
}
