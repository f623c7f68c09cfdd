using System.Text.Json.Nodes;
using EgressLab.Provisioner.Topology;
using static EgressLab.Provisioner.CloudFormation.Intrinsics;

namespace EgressLab.Provisioner.CloudFormation;

// The NAT instance with `failover: asg-eni`, apart from the rest of the renderer because it replaces one resource
// (the NAT's AWS::EC2::Instance) with five, and shares the renderer's id and resource maps.
internal sealed partial class TemplateRenderer
{
    /// <summary>The IAM role (and its instance profile) of a NAT instance that attaches its fixed interface at boot.</summary>
    public const string NatFailoverRoleId = "NatFailoverRole";

    public const string NatFailoverProfileId = "NatFailoverInstanceProfile";

    /// <summary>The NAT group's own logical ids, by instance name: what a host's boot waits for instead of an instance.</summary>
    private readonly Dictionary<string, string> _natGroupIds = [];

    /// <summary>
    /// A NAT instance as fck-nat runs one: a fixed network interface (its address, groups, Elastic IP and
    /// switched-off source/destination check, and what the private routes point at), and an Auto Scaling group of one
    /// whose instance attaches that interface at boot. The group's EC2 health check replaces a dead instance; the route
    /// and the Elastic IP never change, the connection tracking dies with the instance.
    /// </summary>
    private void AddNatFailover(InstanceSpec nat)
    {
        var name = nat.Name;
        var owner = $"instance '{name}'";
        var interfaceId = _ids.For(owner, name, "NetworkInterface");
        var launchTemplate = _ids.For(owner, name, "LaunchTemplate");
        var group = _ids.For(owner, name, "AutoScalingGroup");
        _interfaceIds[name] = interfaceId;
        _natGroupIds[name] = group;
        var subnet = _model.Subnet(nat.Subnet);

        _resources[interfaceId] = Resource("AWS::EC2::NetworkInterface", new JsonObject
        {
            ["Description"] = $"{name}: the NAT's fixed interface; each instance of its Auto Scaling group attaches it at boot",
            ["SubnetId"] = Ref(_subnetIds[nat.Subnet]),
            ["PrivateIpAddress"] = nat.PrivateIp.ToString(),
            ["GroupSet"] = SecurityGroupRefs(nat.SecurityGroups),
            ["SourceDestCheck"] = false,
            ["Tags"] = Tags(name),
        });

        JsonNode? dependsOn = null;
        if (nat.ElasticIp is not null)
        {
            var eipId = _ids.For(owner, name, "Eip");
            var associationId = _ids.For(owner, name, "EipAssociation");
            _resources[eipId] = Resource("AWS::EC2::EIP", new JsonObject { ["Domain"] = "vpc", ["Tags"] = Tags(name) }, _gatewayAttachment);
            _resources[associationId] = Resource("AWS::EC2::EIPAssociation", new JsonObject
            {
                ["AllocationId"] = GetAtt(eipId, "AllocationId"),
                ["NetworkInterfaceId"] = Ref(interfaceId),
            });
            dependsOn = associationId;
            _outputs[eipId] = Output(Ref(eipId), $"{name}: its Elastic IP, the address the internet sees for every host behind the NAT instance, whichever instance holds the interface.");
        }

        // The instance boots with a public address on its own primary interface, so it reaches the EC2 API before it
        // holds the fixed interface (fck-nat's default; a VPC endpoint for EC2 would do instead, at a cost).
        dependsOn = AddDependency(dependsOn, _gatewayAttachment);
        AddInstanceProfile(NatFailoverRoleId, NatFailoverProfileId, "nat-failover-role",
            "Lets the NAT instance register with SSM for Session Manager and attach the NAT's fixed network interface to itself at boot.",
            NatFailoverPolicies(interfaceId, name));

        _resources[launchTemplate] = Resource("AWS::EC2::LaunchTemplate", new JsonObject
        {
            ["LaunchTemplateData"] = new JsonObject
            {
                ["ImageId"] = Ref(Parameters.LatestAmiId),
                ["InstanceType"] = Ref(Parameters.NatInstanceType),
                ["IamInstanceProfile"] = new JsonObject { ["Arn"] = GetAtt(NatFailoverProfileId, "Arn") },
                ["KeyName"] = If(Conditions.HasKeyName, Ref(Parameters.KeyName), NoValue),
                ["MetadataOptions"] = MetadataOptions(),
                ["NetworkInterfaces"] = new JsonArray(new JsonObject
                {
                    ["DeviceIndex"] = 0,
                    ["AssociatePublicIpAddress"] = true,
                    ["DeleteOnTermination"] = true,
                    ["Groups"] = SecurityGroupRefs(nat.SecurityGroups),
                }),
                ["UserData"] = NatFailoverUserData(interfaceId, nat, subnet),
                ["TagSpecifications"] = new JsonArray(new JsonObject { ["ResourceType"] = "instance", ["Tags"] = Tags(name, RoleName(InstanceRole.Nat)) }),
            },
        });

        _resources[group] = Resource("AWS::AutoScaling::AutoScalingGroup", new JsonObject
        {
            ["MinSize"] = "1",
            ["MaxSize"] = "1",
            ["DesiredCapacity"] = "1",
            ["VPCZoneIdentifier"] = new JsonArray(Ref(_subnetIds[nat.Subnet])),
            ["LaunchTemplate"] = new JsonObject
            {
                ["LaunchTemplateId"] = Ref(launchTemplate),
                ["Version"] = GetAtt(launchTemplate, "LatestVersionNumber"),
            },
            // EC2 status checks: an instance that stops or fails them is replaced. They see an instance, not
            // forwarding, so a NAT that is up but has stopped forwarding is not replaced.
            ["HealthCheckType"] = "EC2",
            ["HealthCheckGracePeriod"] = 60,
        }, dependsOn);

        _outputs[group + "Name"] = Output(Ref(group), $"{name}: the Auto Scaling group of one that keeps a NAT instance on the fixed interface.");
        _outputs[interfaceId + "Id"] = Output(Ref(interfaceId), $"{name}: the fixed interface the private route tables point at.");
    }

    /// <summary>
    /// Attaching needs the interface (this one only) and the instance (those this stack's group launches, by their Name
    /// tag); describing the interface cannot be scoped: DescribeNetworkInterfaces takes no resource-level permissions.
    /// </summary>
    private static JsonArray NatFailoverPolicies(string interfaceId, string name) => new(new JsonObject
    {
        ["PolicyName"] = "attach-nat-interface",
        ["PolicyDocument"] = new JsonObject
        {
            ["Version"] = "2012-10-17",
            ["Statement"] = new JsonArray(
                new JsonObject
                {
                    ["Effect"] = "Allow",
                    ["Action"] = "ec2:AttachNetworkInterface",
                    ["Resource"] = Sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:network-interface/${" + interfaceId + "}"),
                },
                new JsonObject
                {
                    ["Effect"] = "Allow",
                    ["Action"] = "ec2:AttachNetworkInterface",
                    ["Resource"] = Sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*"),
                    ["Condition"] = new JsonObject
                    {
                        ["StringEquals"] = new JsonObject { ["aws:ResourceTag/Name"] = Sub("${AWS::StackName}-" + name) },
                    },
                },
                new JsonObject
                {
                    ["Effect"] = "Allow",
                    ["Action"] = "ec2:DescribeNetworkInterfaces",
                    ["Resource"] = "*",
                }),
        },
    });

    /// <summary>
    /// <c>UserData/nat-failover.sh</c> (attach the fixed interface, default route out of it), then the plain NAT
    /// instance's script without its first line, so both NAT shapes run the same NAT setup, then the CloudWatch agent's
    /// install, as every instance's user-data ends.
    /// </summary>
    private JsonObject NatFailoverUserData(string interfaceId, InstanceSpec nat, SubnetSpec subnet)
    {
        var natScript = DeployAssets.UserDataScript(DeployAssets.NatInstanceScript);
        var text = DeployAssets.UserDataScript(DeployAssets.NatFailoverScript) + natScript[(natScript.IndexOf('\n', StringComparison.Ordinal) + 1)..];
        var variables = NatUserDataVariables();
        variables["NatInterface"] = Ref(interfaceId);
        variables["NatPrivateIp"] = nat.PrivateIp.ToString();
        variables["SubnetPrefixLength"] = Invariant(subnet.Cidr.PrefixLength);
        variables["SubnetRouter"] = subnet.Gateway.ToString();
        return UserDataText(text, variables);
    }
}
