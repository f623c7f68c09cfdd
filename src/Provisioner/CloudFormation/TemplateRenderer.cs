using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using EgressLab.Provisioner.Topology;
using static EgressLab.Provisioner.CloudFormation.Intrinsics;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>The outcome of rendering: the template, or the reasons there is none.</summary>
/// <param name="Template">The template; null whenever <paramref name="Problems"/> is not empty.</param>
/// <param name="Notes">What the renderer changed on its way (the walk-through's end state), one line each.</param>
internal sealed record RenderResult(JsonObject? Template, IReadOnlyList<string> Notes, IReadOnlyList<string> Problems);

/// <summary>
/// Renders a topology as a CloudFormation template: the same VPC, subnets, route tables, security groups, network
/// ACLs and instances the lab builds in namespaces, plus what only AWS has (an AMI, an instance profile for SSM Session
/// Manager, Elastic IPs allocated by AWS, and a proxy fleet behind a Network Load Balancer).
/// </summary>
internal sealed partial class TemplateRenderer
{
    /// <summary>The template's parameters, by name; the CLI's deploy options map onto these.</summary>
    public static class Parameters
    {
        public const string KeyName = "KeyName";
        public const string LatestAmiId = "LatestAmiId";
        public const string NatInstanceType = "NatInstanceType";
        public const string ProxyInstanceType = "ProxyInstanceType";
        public const string ClientInstanceType = "ClientInstanceType";
        public const string AllowedDomains = "AllowedDomains";
        public const string ProxyPackageUrl = "ProxyPackageUrl";
        public const string ProxyPackageSha256 = "ProxyPackageSha256";
        public const string ProxyFleetSize = "ProxyFleetSize";
        public const string ProxyPolicySource = "ProxyPolicySource";
        public const string CloudWatchAgent = "CloudWatchAgent";
    }

    /// <summary>The template's conditions.</summary>
    public static class Conditions
    {
        public const string HasKeyName = "HasKeyName";
        public const string SingleProxy = "SingleProxy";
        public const string ProxyFleet = "ProxyFleet";
        public const string PolicyFromSsm = "PolicyFromSsm";
    }

    /// <summary><see cref="Parameters.ProxyPolicySource"/>'s values: the policy in the proxy's file, or in an SSM parameter.</summary>
    public static class PolicySources
    {
        public const string File = "File";
        public const string SsmParameter = "SsmParameter";
    }

    /// <summary>The policy parameter's name. It starts with <c>/egress-lab</c> because names may not begin with <c>aws</c>
    /// or <c>ssm</c>, which a stack name could.</summary>
    public const string PolicyParameterName = "/egress-lab/${AWS::StackName}/proxy-policy";

    /// <summary>The logical id of the policy parameter.</summary>
    public const string PolicyParameterId = "ProxyPolicyParameter";

    /// <summary>The Amazon Linux 2023 image, through the public SSM parameter that always names the current one.</summary>
    public const string AmiParameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

    /// <summary>What the proxy allows when the deployer names nothing: enough for the README's check.</summary>
    public const string DefaultAllowedDomains = "checkip.amazonaws.com";

    /// <summary>Where the instance role and tags mark an instance's part, for people and for the validator.</summary>
    public const string RoleTag = "egress-lab:role";

    // A comma-separated list of names, each a domain pattern the proxy accepts (exact, .suffix or *.suffix). No quotes,
    // spaces or backslashes can get through, so the list is safe to splice into the JSON configuration.
    private const string DomainListPattern =
        @"^(\*\.|\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*(,(\*\.|\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*)*$";

    private readonly TopologyModel _model;
    private readonly LogicalIds _ids = new();
    private readonly JsonObject _resources = [];
    private readonly JsonObject _outputs = [];
    private readonly Dictionary<string, string> _subnetIds = [];
    private readonly Dictionary<string, string> _routeTableIds = [];
    private readonly Dictionary<string, string> _securityGroupIds = [];
    private readonly Dictionary<string, string> _interfaceIds = [];
    private readonly Dictionary<string, string> _instanceIds = [];
    private readonly string _systemdUnit;
    private string? _gatewayAttachment;

    private TemplateRenderer(TopologyModel model, string systemdUnit)
    {
        _model = model;
        _systemdUnit = systemdUnit;
    }

    /// <summary>Renders <paramref name="model"/>.</summary>
    /// <param name="asWritten">Render the route tables and source/destination checks exactly as the topology has them,
    /// instead of the walk-through's end state.</param>
    public static RenderResult Render(TopologyModel model, bool asWritten = false) =>
        Render(model, DeployAssets.SystemdUnit, asWritten);

    public static RenderResult Render(TopologyModel model, string systemdUnit, bool asWritten)
    {
        IReadOnlyList<string> notes = [];
        if (!asWritten)
        {
            (model, notes) = WalkthroughEndState.Apply(model);
        }

        var problems = Preconditions(model);
        if (problems.Count > 0)
        {
            return new RenderResult(null, notes, problems);
        }

        var renderer = new TemplateRenderer(model, systemdUnit);
        var template = renderer.Build();
        return renderer._ids.Collisions.Count > 0
            ? new RenderResult(null, notes, renderer._ids.Collisions)
            : new RenderResult(template, notes, []);
    }

    /// <summary>What the model must have for a template to make sense on AWS, beyond what the topology validator checks.</summary>
    private static List<string> Preconditions(TopologyModel model)
    {
        var problems = new List<string>();
        if (model.Instances.Count(i => i.Role == InstanceRole.Proxy) > 1)
        {
            problems.Add("the topology has more than one instance with role proxy; keep one and set ProxyFleetSize when deploying to run several behind a load balancer");
        }

        foreach (var route in model.RouteTables.SelectMany(t => t.Routes.Select(r => (Table: t.Name, Route: r))))
        {
            if (model.FindInstance(route.Route.Target) is { Role: InstanceRole.Proxy } proxy)
            {
                problems.Add($"route table '{route.Table}' sends {route.Route.Destination} to '{proxy.Name}', the proxy instance; on AWS the proxy may become a fleet behind a load balancer, which a route cannot target. Route to the NAT instance and let clients use the proxy through http_proxy");
            }
        }

        problems.AddRange(NatGatewayPreconditions(model));
        foreach (var instance in model.Instances.Where(i => i.ElasticIp is not null && model.InternetGateway is null))
        {
            problems.Add($"instance '{instance.Name}' has an Elastic IP but the topology has no Internet Gateway to reach it through; add internetGateway or remove the elasticIp");
        }

        return problems;
    }

    private JsonObject Build()
    {
        var proxy = _model.Instances.FirstOrDefault(i => i.Role == InstanceRole.Proxy);
        AddNetwork();
        AddSecurityGroups();
        AddNetworkAcls();
        AddInstanceProfile();
        AddLogGroups();
        foreach (var instance in _model.Instances.Where(i => i.Role != InstanceRole.Proxy))
        {
            AddInstance(instance);
        }

        AddNatGateways();

        // Routes come after the instances because a route to the NAT instance names its network interface.
        AddRoutes();
        if (proxy is not null)
        {
            AddProxy(proxy);
        }

        var template = new JsonObject
        {
            ["AWSTemplateFormatVersion"] = "2010-09-09",
            ["Description"] = $"Egress lab '{_model.Name}': a VPC whose private subnets reach the internet through a NAT instance (layer 4) and a forward proxy on port {Invariant(_model.Proxy.Port)} (layer 7), next to a public subnet behind the Internet Gateway (layer 3). Rendered from {Path.GetFileName(_model.Source)} by the egress lab provisioner.",
            ["Parameters"] = BuildParameters(proxy is not null),
            ["Conditions"] = BuildConditions(proxy is not null),
            ["Resources"] = _resources,
            ["Outputs"] = _outputs,
        };
        return template;
    }

    private static JsonObject BuildParameters(bool hasProxy)
    {
        var parameters = new JsonObject
        {
            [Parameters.KeyName] = new JsonObject
            {
                ["Type"] = "String",
                ["Default"] = "",
                ["Description"] = "An EC2 key pair for SSH, or empty for none: every instance can be reached through SSM Session Manager without one.",
            },
            [Parameters.LatestAmiId] = new JsonObject
            {
                ["Type"] = "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
                ["Default"] = AmiParameter,
                ["Description"] = "The image every instance starts from: current Amazon Linux 2023 (x86_64), read from AWS's public SSM parameter.",
            },
            [Parameters.NatInstanceType] = InstanceType("t3.micro", "The NAT instance's type. Its network bandwidth is the private subnets' bandwidth to the internet."),
            [Parameters.ClientInstanceType] = InstanceType("t3.micro", "The test instances' type."),
        };
        AddCloudWatchParameter(parameters);
        if (!hasProxy)
        {
            return parameters;
        }

        parameters[Parameters.ProxyInstanceType] = InstanceType("t3.small", "The proxy instance's type (each fleet member's, when ProxyFleetSize is above 1).");
        parameters[Parameters.AllowedDomains] = new JsonObject
        {
            ["Type"] = "String",
            ["Default"] = DefaultAllowedDomains,
            ["AllowedPattern"] = DomainListPattern,
            ["ConstraintDescription"] = "a comma-separated list without spaces of names (api.example.com), name-and-subdomain patterns (.example.com) or subdomain patterns (*.example.com)",
            ["Description"] = "The proxy's allowlist: names the private subnet may reach on ports 80 and 443, comma-separated without spaces. .example.com covers the name and every name under it.",
        };
        parameters[Parameters.ProxyPackageUrl] = new JsonObject
        {
            ["Type"] = "String",
            ["AllowedPattern"] = @"^https://[^\s'""\\]+$",
            ["ConstraintDescription"] = "an https:// URL without spaces or quotes",
            ["Description"] = "An HTTPS URL of the proxy build made by deploy/publish.sh (egress-proxy-VERSION-linux-x64.tar.gz), such as an S3 presigned URL. The proxy instance downloads it at boot, through the NAT instance.",
        };
        parameters[Parameters.ProxyPackageSha256] = new JsonObject
        {
            ["Type"] = "String",
            ["Default"] = "",
            ["AllowedPattern"] = "^([0-9a-f]{64})?$",
            ["ConstraintDescription"] = "64 lowercase hexadecimal digits, or empty",
            ["Description"] = "The SHA-256 of the build (publish.sh prints it). When set, an instance refuses a download that does not match.",
        };
        parameters[Parameters.ProxyFleetSize] = new JsonObject
        {
            ["Type"] = "Number",
            ["Default"] = 1,
            ["MinValue"] = 1,
            ["MaxValue"] = 20,
            ["Description"] = "How many proxy instances. 1: one instance at the proxy's address. Above 1: an Auto Scaling group behind an internal Network Load Balancer at that same address, health-checked on the admin /readyz.",
        };
        parameters[Parameters.ProxyPolicySource] = new JsonObject
        {
            ["Type"] = "String",
            ["Default"] = PolicySources.File,
            ["AllowedValues"] = new JsonArray(PolicySources.File, PolicySources.SsmParameter),
            ["Description"] = "Where the proxy reads its policy. File: from its configuration file, changed by replacing the instance. SsmParameter: from an SSM parameter the stack creates (String, holding the same policy to start with); the proxy polls it every minute and applies each new version, so the allowlist can change without touching the instances.",
        };
        return parameters;
    }

    private static JsonObject InstanceType(string defaultType, string description) => new()
    {
        ["Type"] = "String",
        ["Default"] = defaultType,
        ["AllowedPattern"] = @"^[a-z][a-z0-9-]*\.[a-z0-9]+$",
        ["ConstraintDescription"] = "an EC2 instance type such as t3.micro",
        ["Description"] = description,
    };

    private static JsonObject BuildConditions(bool hasProxy)
    {
        var conditions = new JsonObject
        {
            [Conditions.HasKeyName] = Not(Intrinsics.Equals(Ref(Parameters.KeyName), "")),
        };
        AddCloudWatchCondition(conditions);
        if (hasProxy)
        {
            conditions[Conditions.SingleProxy] = Intrinsics.Equals(Ref(Parameters.ProxyFleetSize), "1");
            conditions[Conditions.ProxyFleet] = Not(Condition(Conditions.SingleProxy));
            conditions[Conditions.PolicyFromSsm] = Intrinsics.Equals(Ref(Parameters.ProxyPolicySource), PolicySources.SsmParameter);
        }

        return conditions;
    }

    private void AddNetwork()
    {
        _resources["Vpc"] = Resource("AWS::EC2::VPC", new JsonObject
        {
            ["CidrBlock"] = _model.Vpc.Cidr.ToString(),
            ["EnableDnsSupport"] = true,
            ["EnableDnsHostnames"] = true,
            ["Tags"] = Tags("vpc"),
        });
        _ids.For("the VPC", "Vpc", "");

        if (_model.InternetGateway is { } gateway)
        {
            var id = _ids.For($"internet gateway '{gateway.Name}'", GatewayId(gateway.Name));
            _resources[id] = Resource("AWS::EC2::InternetGateway", new JsonObject { ["Tags"] = Tags(gateway.Name) });
            _gatewayAttachment = _ids.For($"internet gateway '{gateway.Name}'", gateway.Name, "InternetGatewayAttachment");
            _resources[_gatewayAttachment] = Resource("AWS::EC2::VPCGatewayAttachment", new JsonObject
            {
                ["VpcId"] = Ref("Vpc"),
                ["InternetGatewayId"] = Ref(id),
            });
        }

        foreach (var table in _model.RouteTables)
        {
            var id = _ids.For($"route table '{table.Name}'", table.Name, "RouteTable");
            _routeTableIds[table.Name] = id;
            _resources[id] = Resource("AWS::EC2::RouteTable", new JsonObject { ["VpcId"] = Ref("Vpc"), ["Tags"] = Tags(table.Name) });
        }

        foreach (var subnet in _model.Subnets)
        {
            var id = _ids.For($"subnet '{subnet.Name}'", subnet.Name, "Subnet");
            _subnetIds[subnet.Name] = id;
            _resources[id] = Resource("AWS::EC2::Subnet", new JsonObject
            {
                ["VpcId"] = Ref("Vpc"),
                ["CidrBlock"] = subnet.Cidr.ToString(),
                // One Availability Zone, like the lab: every address the topology fixes must be in one subnet per range.
                ["AvailabilityZone"] = FirstAvailabilityZone,
                ["MapPublicIpOnLaunch"] = false,
                ["Tags"] = Tags(subnet.Name),
            });
            _resources[_ids.For($"subnet '{subnet.Name}'", subnet.Name, "SubnetRouteTableAssociation")] = Resource("AWS::EC2::SubnetRouteTableAssociation", new JsonObject
            {
                ["SubnetId"] = Ref(id),
                ["RouteTableId"] = Ref(_routeTableIds[subnet.RouteTable]),
            });
        }
    }

    private void AddRoutes()
    {
        foreach (var table in _model.RouteTables)
        {
            for (var i = 0; i < table.Routes.Count; i++)
            {
                var route = table.Routes[i];
                var owner = $"route table '{table.Name}' route {route.Destination}";
                var id = route.Destination.PrefixLength == 0
                    ? _ids.For(owner, DefaultRouteId(table.Name))
                    : _ids.For(owner, table.Name, "Route" + Invariant(i + 1));
                var properties = new JsonObject
                {
                    ["RouteTableId"] = Ref(_routeTableIds[table.Name]),
                    ["DestinationCidrBlock"] = route.Destination.ToString(),
                };
                JsonNode? dependsOn = null;
                if (_model.InternetGateway is { } gateway && route.Target == gateway.Name)
                {
                    properties["GatewayId"] = Ref(GatewayId(gateway.Name));

                    // A route to a gateway that is not yet attached fails; CloudFormation cannot see that ordering by itself.
                    dependsOn = _gatewayAttachment;
                }
                else if (_model.FindNatGateway(route.Target) is { } natGateway)
                {
                    properties["NatGatewayId"] = Ref(NatGatewayId(natGateway.Name));
                }
                else
                {
                    // Through the instance's network interface, which carries the switched-off source/destination check.
                    properties["NetworkInterfaceId"] = Ref(_interfaceIds[route.Target]);
                }

                _resources[id] = Resource("AWS::EC2::Route", properties, dependsOn);
            }
        }
    }

    private void AddSecurityGroups()
    {
        foreach (var group in _model.SecurityGroups)
        {
            var id = _ids.For($"security group '{group.Name}'", group.Name, "SecurityGroup");
            _securityGroupIds[group.Name] = id;
            var properties = new JsonObject
            {
                ["GroupDescription"] = group.Description,
                ["VpcId"] = Ref("Vpc"),
                ["SecurityGroupIngress"] = new JsonArray([.. group.Ingress.Select(r => (JsonNode)SecurityGroupRule(r, "CidrIp"))]),
            };
            if (group.Egress is { } egress)
            {
                // Rules given replace AWS's default allow-all egress rule, as an explicit list does in the console.
                properties["SecurityGroupEgress"] = new JsonArray([.. egress.Select(r => (JsonNode)SecurityGroupRule(r, "CidrIp"))]);
            }

            properties["Tags"] = Tags(group.Name);
            _resources[id] = Resource("AWS::EC2::SecurityGroup", properties);
        }
    }

    private static JsonObject SecurityGroupRule(Topology.SecurityGroupRule rule, string peerProperty)
    {
        var json = new JsonObject { ["IpProtocol"] = rule.Protocol switch
        {
            TrafficProtocol.Tcp => "tcp",
            TrafficProtocol.Udp => "udp",
            TrafficProtocol.Icmp => "icmp",
            _ => "-1",
        } };
        switch (rule.Protocol)
        {
            case TrafficProtocol.Tcp or TrafficProtocol.Udp:
                json["FromPort"] = rule.Ports.From;
                json["ToPort"] = rule.Ports.To;
                break;
            case TrafficProtocol.Icmp:
                // Every ICMP type and code, as the console's "All ICMP - IPv4".
                json["FromPort"] = -1;
                json["ToPort"] = -1;
                break;
        }

        json[peerProperty] = rule.Peer.ToString();
        if (rule.Description is { Length: > 0 } description)
        {
            json["Description"] = description;
        }

        return json;
    }

    private void AddNetworkAcls()
    {
        foreach (var acl in _model.NetworkAcls)
        {
            var id = _ids.For($"network ACL '{acl.Name}'", NetworkAclId(acl.Name));
            _resources[id] = Resource("AWS::EC2::NetworkAcl", new JsonObject { ["VpcId"] = Ref("Vpc"), ["Tags"] = Tags(acl.Name) });
            foreach (var (rules, egress) in new[] { (acl.Inbound, false), (acl.Outbound, true) })
            {
                foreach (var rule in rules)
                {
                    var entry = new JsonObject
                    {
                        ["NetworkAclId"] = Ref(id),
                        ["RuleNumber"] = rule.Number,
                        ["Protocol"] = rule.Protocol switch
                        {
                            TrafficProtocol.Tcp => 6,
                            TrafficProtocol.Udp => 17,
                            TrafficProtocol.Icmp => 1,
                            _ => -1,
                        },
                        ["RuleAction"] = rule.Action == AclAction.Allow ? "allow" : "deny",
                        ["Egress"] = egress,
                        ["CidrBlock"] = rule.Peer.ToString(),
                    };
                    if (rule.Protocol is TrafficProtocol.Tcp or TrafficProtocol.Udp)
                    {
                        entry["PortRange"] = new JsonObject { ["From"] = rule.Ports.From, ["To"] = rule.Ports.To };
                    }
                    else if (rule.Protocol == TrafficProtocol.Icmp)
                    {
                        entry["Icmp"] = new JsonObject { ["Code"] = -1, ["Type"] = -1 };
                    }

                    var entryId = _ids.For($"network ACL '{acl.Name}' rule {Invariant(rule.Number)}", acl.Name, (egress ? "NetworkAclOutbound" : "NetworkAclInbound") + Invariant(rule.Number));
                    _resources[entryId] = Resource("AWS::EC2::NetworkAclEntry", entry);
                }
            }
        }

        foreach (var subnet in _model.Subnets.Where(s => s.NetworkAcl is not null))
        {
            _resources[_ids.For($"subnet '{subnet.Name}'", subnet.Name, "SubnetNetworkAclAssociation")] = Resource("AWS::EC2::SubnetNetworkAclAssociation", new JsonObject
            {
                ["SubnetId"] = Ref(_subnetIds[subnet.Name]),
                ["NetworkAclId"] = Ref(NetworkAclId(subnet.NetworkAcl!)),
            });
        }
    }

    private void AddInstanceProfile() => AddInstanceProfile("InstanceRole", "InstanceProfile", "instance-role",
        "Lets the egress lab's instances register with SSM, so Session Manager reaches them without SSH keys or open ports.", null);

    /// <summary>
    /// The proxy's own role: Session Manager as every instance has, and, when the policy comes from the SSM parameter,
    /// <c>ssm:GetParameter</c> on that one parameter. No <c>kms:Decrypt</c>: CloudFormation creates only String parameters.
    /// </summary>
    private void AddProxyInstanceProfile() => AddInstanceProfile("ProxyInstanceRole", "ProxyInstanceProfile", "proxy-instance-role",
        "Lets the proxy instances register with SSM for Session Manager and, when ProxyPolicySource is SsmParameter, read their policy parameter.",
        If(Conditions.PolicyFromSsm, new JsonArray(new JsonObject
        {
            ["PolicyName"] = "read-proxy-policy",
            ["PolicyDocument"] = new JsonObject
            {
                ["Version"] = "2012-10-17",
                ["Statement"] = new JsonArray(new JsonObject
                {
                    ["Effect"] = "Allow",
                    ["Action"] = "ssm:GetParameter",
                    ["Resource"] = Sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${" + PolicyParameterId + "}"),
                }),
            },
        }), NoValue));

    private void AddInstanceProfile(string roleId, string profileId, string tagName, string description, JsonNode? policies)
    {
        var role = new JsonObject
        {
            ["Description"] = description,
            ["AssumeRolePolicyDocument"] = new JsonObject
            {
                ["Version"] = "2012-10-17",
                ["Statement"] = new JsonArray(new JsonObject
                {
                    ["Effect"] = "Allow",
                    ["Principal"] = new JsonObject { ["Service"] = "ec2.amazonaws.com" },
                    ["Action"] = "sts:AssumeRole",
                }),
            },
            ["ManagedPolicyArns"] = new JsonArray(Sub("arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"), CloudWatchAgentPolicyArn()),
        };
        if (policies is not null)
        {
            role["Policies"] = policies;
        }

        role["Tags"] = Tags(tagName);
        _resources[roleId] = Resource("AWS::IAM::Role", role);
        _resources[profileId] = Resource("AWS::IAM::InstanceProfile", new JsonObject { ["Roles"] = new JsonArray(Ref(roleId)) });
    }

    /// <summary>
    /// The SSM parameter the proxy reads its policy from when <see cref="Parameters.ProxyPolicySource"/> is
    /// <c>SsmParameter</c>: the very Policy section the configuration file has otherwise, as compact JSON.
    /// </summary>
    private void AddPolicyParameter()
    {
        var placeholders = ProxyInstanceConfig.Build(_model.Proxy.Port, "127.0.0.1", "-", ["${VpcCidr}"], ["${AllowedDomainList}"]);
        var policy = placeholders["Proxy"]!["Policy"]!.ToJsonString();
        var parameter = Resource("AWS::SSM::Parameter", new JsonObject
        {
            ["Name"] = Sub(PolicyParameterName),
            ["Description"] = "The egress proxy's policy (the Policy section of its configuration), polled by the proxy instances. Standard tier: at most 4 KB; switch to Advanced (8 KB) for a longer one.",
            ["Type"] = "String",
            ["Tier"] = "Standard",
            ["DataType"] = "text",
            ["Value"] = Sub(policy, new JsonObject { ["VpcCidr"] = _model.Vpc.Cidr.ToString(), ["AllowedDomainList"] = AllowedDomainList() }),
        });
        _resources[PolicyParameterId] = WithCondition(parameter, Conditions.PolicyFromSsm);
        var output = Output(Ref(PolicyParameterId), "The SSM parameter holding the proxy's policy. Change it with: aws ssm put-parameter --overwrite --name <name> --value file://policy.json");
        output["Condition"] = Conditions.PolicyFromSsm;
        _outputs[PolicyParameterId + "Name"] = output;
    }

    private void AddInstance(InstanceSpec instance)
    {
        if (instance is { Role: InstanceRole.Nat, Failover: NatFailover.AsgEni })
        {
            AddNatFailover(instance);
            return;
        }

        var name = instance.Name;
        var instanceId = _ids.For($"instance '{name}'", InstanceId(name));
        _instanceIds[name] = instanceId;
        var properties = new JsonObject
        {
            ["ImageId"] = Ref(Parameters.LatestAmiId),
            ["InstanceType"] = Ref(instance.Role == InstanceRole.Nat ? Parameters.NatInstanceType : Parameters.ClientInstanceType),
            ["IamInstanceProfile"] = Ref("InstanceProfile"),
            ["KeyName"] = If(Conditions.HasKeyName, Ref(Parameters.KeyName), NoValue),
            ["MetadataOptions"] = MetadataOptions(),
        };

        JsonNode? dependsOn = null;
        var routedThrough = _model.RouteTables.Any(t => t.Routes.Any(r => r.Target == name));
        if (instance.ElasticIp is not null || instance.Role == InstanceRole.Nat || routedThrough)
        {
            // A network interface of its own holds the address, the groups, the source/destination check and the
            // Elastic IP before the instance boots, so its user-data already has its way to the internet.
            var interfaceId = _ids.For($"instance '{name}'", name, "NetworkInterface");
            _interfaceIds[name] = interfaceId;
            _resources[interfaceId] = Resource("AWS::EC2::NetworkInterface", new JsonObject
            {
                ["Description"] = $"{name}: primary network interface",
                ["SubnetId"] = Ref(_subnetIds[instance.Subnet]),
                ["PrivateIpAddress"] = instance.PrivateIp.ToString(),
                ["GroupSet"] = SecurityGroupRefs(instance.SecurityGroups),
                ["SourceDestCheck"] = instance.SourceDestCheck,
                ["Tags"] = Tags(name),
            });
            properties["NetworkInterfaces"] = new JsonArray(new JsonObject { ["DeviceIndex"] = "0", ["NetworkInterfaceId"] = Ref(interfaceId) });
            if (instance.ElasticIp is not null)
            {
                var eipId = _ids.For($"instance '{name}'", name, "Eip");
                var associationId = _ids.For($"instance '{name}'", name, "EipAssociation");
                _resources[eipId] = Resource("AWS::EC2::EIP", new JsonObject { ["Domain"] = "vpc", ["Tags"] = Tags(name) }, _gatewayAttachment);
                _resources[associationId] = Resource("AWS::EC2::EIPAssociation", new JsonObject
                {
                    ["AllocationId"] = GetAtt(eipId, "AllocationId"),
                    ["NetworkInterfaceId"] = Ref(interfaceId),
                });
                dependsOn = associationId;
                _outputs[eipId] = Output(Ref(eipId), $"{name}: its Elastic IP, the address the internet sees{(instance.Role == InstanceRole.Nat ? " for every host behind the NAT instance" : "")}.");
            }
        }
        else
        {
            properties["SubnetId"] = Ref(_subnetIds[instance.Subnet]);
            properties["PrivateIpAddress"] = instance.PrivateIp.ToString();
            properties["SecurityGroupIds"] = SecurityGroupRefs(instance.SecurityGroups);
            if (!instance.SourceDestCheck)
            {
                properties["SourceDestCheck"] = false;
            }
        }

        if (instance.Role == InstanceRole.Nat)
        {
            properties["UserData"] = NatUserData();
        }

        // Hosts install packages and reach SSM through their default route: boot them once it exists.
        dependsOn = AddDependencies(dependsOn, DefaultRouteDependencies(instance));

        properties["Tags"] = Tags(name, RoleName(instance.Role));
        _resources[instanceId] = Resource("AWS::EC2::Instance", properties, dependsOn);
        _outputs[instanceId + "Id"] = Output(Ref(instanceId), $"{name}: instance id. Shell: aws ssm start-session --target <id>");
    }

    private void AddProxy(InstanceSpec proxy)
    {
        var name = proxy.Name;
        var port = _model.Proxy.Port;
        // The proxy downloads its build at boot: its way out must exist first.
        var dependsOn = AddDependencies(null, DefaultRouteDependencies(proxy));
        AddProxyInstanceProfile();
        AddPolicyParameter();

        // One instance: the proxy at its address.
        var instanceId = _ids.For($"instance '{name}'", InstanceId(name));
        _instanceIds[name] = instanceId;
        var single = new JsonObject
        {
            ["ImageId"] = Ref(Parameters.LatestAmiId),
            ["InstanceType"] = Ref(Parameters.ProxyInstanceType),
            ["IamInstanceProfile"] = Ref("ProxyInstanceProfile"),
            ["KeyName"] = If(Conditions.HasKeyName, Ref(Parameters.KeyName), NoValue),
            ["MetadataOptions"] = MetadataOptions(),
            ["SubnetId"] = Ref(_subnetIds[proxy.Subnet]),
            ["PrivateIpAddress"] = proxy.PrivateIp.ToString(),
            ["SecurityGroupIds"] = SecurityGroupRefs(proxy.SecurityGroups),
            ["UserData"] = ProxyUserData(adminAddress: "127.0.0.1"),
            ["Tags"] = Tags(name, RoleName(InstanceRole.Proxy)),
        };
        var instance = Resource("AWS::EC2::Instance", single, dependsOn);
        instance["Condition"] = Conditions.SingleProxy;
        _resources[instanceId] = instance;
        var idOutput = Output(Ref(instanceId), $"{name}: instance id. Shell: aws ssm start-session --target <id>");
        idOutput["Condition"] = Conditions.SingleProxy;
        _outputs[instanceId + "Id"] = idOutput;

        // A fleet: an Auto Scaling group behind an internal Network Load Balancer that holds the same address, so
        // clients keep one proxy URL whatever the size.
        var prefix = LogicalIds.Pascal(name);
        var launchTemplate = _ids.For($"instance '{name}'", name, "LaunchTemplate");
        var targetGroup = _ids.For($"instance '{name}'", name, "TargetGroup");
        var loadBalancer = _ids.For($"instance '{name}'", name, "LoadBalancer");
        var listener = _ids.For($"instance '{name}'", name, "Listener");
        var group = _ids.For($"instance '{name}'", name, "AutoScalingGroup");
        var healthCheckIngress = _ids.For($"instance '{name}'", name, "HealthCheckIngress");

        AddConditional(launchTemplate, Resource("AWS::EC2::LaunchTemplate", new JsonObject
        {
            ["LaunchTemplateData"] = new JsonObject
            {
                ["ImageId"] = Ref(Parameters.LatestAmiId),
                ["InstanceType"] = Ref(Parameters.ProxyInstanceType),
                ["IamInstanceProfile"] = new JsonObject { ["Arn"] = GetAtt("ProxyInstanceProfile", "Arn") },
                ["KeyName"] = If(Conditions.HasKeyName, Ref(Parameters.KeyName), NoValue),
                ["MetadataOptions"] = MetadataOptions(),
                ["SecurityGroupIds"] = SecurityGroupRefs(proxy.SecurityGroups),
                ["UserData"] = ProxyUserData(adminAddress: "0.0.0.0"),
                ["TagSpecifications"] = new JsonArray(new JsonObject { ["ResourceType"] = "instance", ["Tags"] = Tags(name, RoleName(InstanceRole.Proxy)) }),
            },
        }));

        // The load balancer's health checks come from its own address in the proxy's subnet, to the admin port.
        var subnet = _model.Subnet(proxy.Subnet);
        if (proxy.SecurityGroups.Count > 0)
        {
            AddConditional(healthCheckIngress, Resource("AWS::EC2::SecurityGroupIngress", new JsonObject
            {
                ["GroupId"] = GetAtt(_securityGroupIds[proxy.SecurityGroups[0]], "GroupId"),
                ["IpProtocol"] = "tcp",
                ["FromPort"] = ProxyInstanceConfig.AdminPort,
                ["ToPort"] = ProxyInstanceConfig.AdminPort,
                ["CidrIp"] = subnet.Cidr.ToString(),
                ["Description"] = "load balancer health checks to the proxy's admin /readyz",
            }));
        }

        AddConditional(targetGroup, Resource("AWS::ElasticLoadBalancingV2::TargetGroup", new JsonObject
        {
            ["VpcId"] = Ref("Vpc"),
            ["TargetType"] = "instance",
            ["Protocol"] = "TCP",
            ["Port"] = port,
            ["HealthCheckProtocol"] = "HTTP",
            ["HealthCheckPort"] = Invariant(ProxyInstanceConfig.AdminPort),
            ["HealthCheckPath"] = "/readyz",
            ["HealthCheckIntervalSeconds"] = 10,
            ["HealthyThresholdCount"] = 2,
            ["UnhealthyThresholdCount"] = 2,
            ["TargetGroupAttributes"] = new JsonArray(
                // /readyz turns 503 while a proxy drains; give its tunnels the proxy's default drain time to finish.
                new JsonObject { ["Key"] = "deregistration_delay.timeout_seconds", ["Value"] = "30" },
                // Clients' own addresses reach the proxy, so its per-client rules and the security group still apply.
                new JsonObject { ["Key"] = "preserve_client_ip.enabled", ["Value"] = "true" }),
            ["Tags"] = Tags(name),
        }));
        AddConditional(loadBalancer, Resource("AWS::ElasticLoadBalancingV2::LoadBalancer", new JsonObject
        {
            ["Type"] = "network",
            ["Scheme"] = "internal",
            ["SubnetMappings"] = new JsonArray(new JsonObject
            {
                ["SubnetId"] = Ref(_subnetIds[proxy.Subnet]),
                ["PrivateIPv4Address"] = proxy.PrivateIp.ToString(),
            }),
            ["Tags"] = Tags(name),
        }));
        AddConditional(listener, Resource("AWS::ElasticLoadBalancingV2::Listener", new JsonObject
        {
            ["LoadBalancerArn"] = Ref(loadBalancer),
            ["Protocol"] = "TCP",
            ["Port"] = port,
            ["DefaultActions"] = new JsonArray(new JsonObject { ["Type"] = "forward", ["TargetGroupArn"] = Ref(targetGroup) }),
        }));
        var groupProperties = new JsonObject
        {
            ["MinSize"] = Ref(Parameters.ProxyFleetSize),
            ["MaxSize"] = Ref(Parameters.ProxyFleetSize),
            ["DesiredCapacity"] = Ref(Parameters.ProxyFleetSize),
            ["VPCZoneIdentifier"] = new JsonArray(Ref(_subnetIds[proxy.Subnet])),
            ["LaunchTemplate"] = new JsonObject
            {
                ["LaunchTemplateId"] = Ref(launchTemplate),
                ["Version"] = GetAtt(launchTemplate, "LatestVersionNumber"),
            },
            ["TargetGroupARNs"] = new JsonArray(Ref(targetGroup)),
            ["HealthCheckType"] = "ELB",
            ["HealthCheckGracePeriod"] = 300,
        };
        AddConditional(group, Resource("AWS::AutoScaling::AutoScalingGroup", groupProperties, AddDependency(dependsOn?.DeepClone(), listener)));

        _outputs[prefix + "Url"] = Output(
            $"http://{proxy.PrivateIp}:{Invariant(port)}",
            $"The proxy: set http_proxy and https_proxy to this on the private instances ({(subnet.Name)} subnet clients; one instance, or the load balancer in front of the fleet).");
        _outputs[prefix + "Environment"] = Output(
            $"export http_proxy=http://{proxy.PrivateIp}:{Invariant(port)} https_proxy=http://{proxy.PrivateIp}:{Invariant(port)} no_proxy=169.254.169.254,localhost,127.0.0.1",
            "Paste into a shell on a private instance to send curl and most tools through the proxy (the instance metadata service stays direct).");
    }

    /// <summary>The host's default route and, when it leads to an instance, that instance: what its boot needs to reach out.</summary>
    private List<string> DefaultRouteDependencies(InstanceSpec host)
    {
        var table = _model.RouteTable(_model.Subnet(host.Subnet).RouteTable);
        if (table.Routes.FirstOrDefault(r => r.Destination.PrefixLength == 0) is not { } route)
        {
            return [];
        }

        var dependencies = new List<string> { DefaultRouteId(table.Name) };
        if (_model.FindInstance(route.Target) is { } target && target.Name != host.Name)
        {
            dependencies.Add(_natGroupIds.TryGetValue(target.Name, out var group) ? group : InstanceId(target.Name));
        }

        return dependencies;
    }

    private static JsonNode? AddDependencies(JsonNode? dependsOn, IEnumerable<string> ids)
    {
        foreach (var id in ids)
        {
            dependsOn = AddDependency(dependsOn, id);
        }

        return dependsOn;
    }

    private void AddConditional(string id, JsonObject resource) => _resources[id] = WithCondition(resource, Conditions.ProxyFleet);

    private static JsonObject WithCondition(JsonObject resource, string condition)
    {
        // The condition goes right after Type, where a reader looks for it.
        var ordered = new JsonObject { ["Type"] = resource["Type"]!.DeepClone(), ["Condition"] = condition };
        foreach (var (key, value) in resource.Where(p => p.Key != "Type"))
        {
            ordered[key] = value?.DeepClone();
        }

        return ordered;
    }

    private static JsonNode? AddDependency(JsonNode? dependsOn, string? id)
    {
        if (id is null)
        {
            return dependsOn;
        }

        return dependsOn switch
        {
            null => id,
            JsonArray list => new JsonArray([.. list.Select(n => n!.DeepClone()), id]),
            _ => new JsonArray(dependsOn.DeepClone(), id),
        };
    }

    private JsonArray SecurityGroupRefs(IEnumerable<string> names) => new([.. names.Select(n => (JsonNode)Ref(_securityGroupIds[n]))]);

    // IMDSv2 only: a request forged through a proxy or a server-side bug cannot carry the PUT token exchange.
    private static JsonObject MetadataOptions() => new() { ["HttpTokens"] = "required", ["HttpEndpoint"] = "enabled" };

    /// <summary>
    /// The NAT instance's user-data, <c>UserData/nat-instance.sh</c>: installs iptables-services, then the very commands
    /// the lab runs (<see cref="NatInstanceSetup"/>; a test keeps the two the same), then the CloudWatch agent when on.
    /// </summary>
    private JsonObject NatUserData() => UserData(DeployAssets.NatInstanceScript, NatUserDataVariables());

    private JsonObject NatUserDataVariables() => new()
    {
        ["ShipToCloudWatch"] = If(ShipToCloudWatch, "true", ""),
        ["CloudWatchAgentConfig"] = CloudWatchAgentVariable(InstanceRole.Nat),
        ["PrimaryInterfaceMarker"] = PrimaryInterfaceMarker,
    };

    /// <summary>
    /// The proxy instance's user-data, <c>UserData/proxy-instance.sh</c>: an <c>Fn::Sub</c> over the package, checksum
    /// and allowlist parameters and the topology's values, which go in the variables map rather than into the text.
    /// </summary>
    private JsonObject ProxyUserData(string adminAddress) => UserData(DeployAssets.ProxyInstanceScript, new JsonObject
    {
        ["ProxyPort"] = Invariant(_model.Proxy.Port),
        ["AdminAddress"] = adminAddress,
        ["AdminPort"] = Invariant(ProxyInstanceConfig.AdminPort),
        ["VpcCidr"] = _model.Vpc.Cidr.ToString(),
        ["AllowedDomainList"] = AllowedDomainList(),
        // Empty when the policy is in the file; the script then writes the file with the policy in it.
        ["PolicyParameterName"] = If(Conditions.PolicyFromSsm, Ref(PolicyParameterId), ""),
        // A variable's value is inserted as it is, so the unit needs no escaping; the script adds the final newline.
        ["SystemdUnit"] = _systemdUnit.EndsWith('\n') ? _systemdUnit[..^1] : _systemdUnit,
        ["CloudWatchAgentConfig"] = CloudWatchAgentVariable(InstanceRole.Proxy),
        ["PrimaryInterfaceMarker"] = PrimaryInterfaceMarker,
    });

    // The parameter is "a,b,c"; the configuration wants ["a", "b", "c"], and the text around it supplies the outer quotes.
    private static JsonObject AllowedDomainList() => new()
    {
        ["Fn::Join"] = new JsonArray("\", \"", new JsonObject { ["Fn::Split"] = new JsonArray(",", Ref(Parameters.AllowedDomains)) }),
    };

    /// <summary>
    /// A user-data script from <c>UserData/</c> with the CloudWatch agent's install after it, base64-encoded after
    /// CloudFormation's substitution.
    /// </summary>
    private static JsonObject UserData(string script, JsonObject variables) => UserDataText(DeployAssets.UserDataScript(script), variables);

    /// <summary>User-data text with the CloudWatch agent's install after it, base64-encoded after substitution.</summary>
    private static JsonObject UserDataText(string text, JsonObject variables)
    {
        text += DeployAssets.UserDataScript(DeployAssets.CloudWatchAgentScript);
        return Base64(variables.Count == 0 ? Sub(text) : Sub(text, variables));
    }

    private static string RoleName(InstanceRole role) => role switch
    {
        InstanceRole.Nat => "nat",
        InstanceRole.Proxy => "proxy",
        _ => "client",
    };

    private static JsonObject Resource(string type, JsonObject properties, JsonNode? dependsOn = null)
    {
        var resource = new JsonObject { ["Type"] = type };
        if (dependsOn is not null)
        {
            resource["DependsOn"] = dependsOn.DeepClone();
        }

        resource["Properties"] = properties;
        return resource;
    }

    private static JsonObject Output(JsonNode value, string description) => new() { ["Description"] = description, ["Value"] = value };

    private static JsonArray Tags(string name, string? role = null)
    {
        var tags = new JsonArray(new JsonObject { ["Key"] = "Name", ["Value"] = Sub("${AWS::StackName}-" + name) });
        if (role is not null)
        {
            tags.Add(new JsonObject { ["Key"] = RoleTag, ["Value"] = role });
        }

        return tags;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    // Logical ids that other resources name; each is made in one place so a reference cannot drift from its target.
    private static string GatewayId(string gateway) => LogicalIds.Pascal(gateway) + "InternetGateway";

    private static string NetworkAclId(string acl) => LogicalIds.Pascal(acl) + "NetworkAcl";

    private static string InstanceId(string instance) => LogicalIds.Pascal(instance) + "Instance";

    private static string DefaultRouteId(string table) => LogicalIds.Pascal(table) + "DefaultRoute";
}
