using System.Diagnostics;
using System.Text.Json.Nodes;
using EgressLab.Provisioner.CloudFormation;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Tests.Topology;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.CloudFormation;

public sealed class TemplateRendererTests
{
    /// <summary>The golden template: what `aws render` writes for the default topology, kept in deploy/.</summary>
    internal static string GoldenPath => RepositoryFiles.PathOf("deploy", "cloudformation", "egress-lab.yaml");

    internal static JsonObject RenderDefault(bool asWritten = false) => Render(TopologyLoader.Load(DefaultTopology.Path), asWritten);

    internal static JsonObject Render(TopologyLoadResult loaded, bool asWritten = false)
    {
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        var result = TemplateRenderer.Render(loaded.Model!, asWritten);
        Assert.True(result.Template is not null, string.Join("\n", result.Problems));
        return result.Template!;
    }

    private static JsonObject Resource(JsonObject template, string id) =>
        Assert.IsType<JsonObject>(template["Resources"]![id], exactMatch: false);

    private static JsonObject Properties(JsonObject template, string id) => (JsonObject)Resource(template, id)["Properties"]!;

    // The topology variants the issue names: with network ACLs, and with the proxy in the public subnet.
    private const string NetworkAclSnippet =
        "    routeTable: private\n    networkAcl: private\n\nnetworkAcls:\n  - name: private\n    inbound:\n"
        + "      - { number: 100, protocol: all, source: 10.10.0.0/16, action: allow }\n"
        + "      - { number: 200, protocol: tcp, ports: \"1024-65535\", source: 0.0.0.0/0, action: allow }\n"
        + "      - { number: 300, protocol: icmp, source: 0.0.0.0/0, action: allow }\n"
        + "    outbound:\n      - { number: 100, protocol: all, destination: 0.0.0.0/0, action: allow }\n"
        + "      - { number: 200, protocol: udp, ports: \"53\", destination: 10.10.0.2/32, action: deny }\n";

    public static TheoryData<string, string, string> Variants => new()
    {
        { "default", "name: egress-lab", "name: egress-lab" },
        { "network ACLs", "    routeTable: private\n", NetworkAclSnippet },
        { "proxy in the public subnet", "    subnet: private\n    privateIp: 10.10.2.200\n", "    subnet: public\n    privateIp: 10.10.1.200\n    elasticIp: 203.0.113.12\n" },
        { "NAT failover (asg-eni)", "    role: nat\n", "    role: nat\n    failover: asg-eni\n" },
    };

    [Fact]
    public void Render_DefaultTopology_EqualsTheTemplateInDeploy()
    {
        var rendered = TemplateYamlWriter.Write(RenderDefault());
        var golden = File.ReadAllText(GoldenPath);

        Assert.True(
            rendered == golden,
            "deploy/cloudformation/egress-lab.yaml is out of date with the renderer. Regenerate it: "
            + "dotnet run --project src/Provisioner -- aws render --out deploy/cloudformation/egress-lab.yaml");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Render_EachTopologyVariant_ValidatesForFleetSizesOneAndThree(string variant, string oldText, string newText)
    {
        var template = Render(TopologyFixtures.ParseDefaultWith(oldText, newText));

        foreach (var size in new[] { "1", "3" })
        {
            var findings = TemplateValidator.Validate(template, new Dictionary<string, string> { ["ProxyFleetSize"] = size });
            Assert.True(findings.Count == 0, $"{variant}, ProxyFleetSize={size}:\n" + string.Join("\n", findings));
        }
    }

    [Fact]
    public void Render_FleetSizeParameter_SwapsTheInstanceForAGroupBehindALoadBalancerAtTheSameAddress()
    {
        var template = RenderDefault();
        var one = TemplateVariant.Evaluate(template, new Dictionary<string, string> { ["ProxyFleetSize"] = "1" }, [])!;
        var three = TemplateVariant.Evaluate(template, new Dictionary<string, string> { ["ProxyFleetSize"] = "3" }, [])!;

        Assert.Contains("ProxyInstance", one.Resources.Keys);
        Assert.DoesNotContain("ProxyAutoScalingGroup", one.Resources.Keys);
        Assert.DoesNotContain("ProxyLoadBalancer", one.Resources.Keys);
        Assert.Equal("10.10.2.200", one.Resources["ProxyInstance"]["Properties"]!["PrivateIpAddress"]!.ToString());

        Assert.DoesNotContain("ProxyInstance", three.Resources.Keys);
        var group = (JsonObject)three.Resources["ProxyAutoScalingGroup"]["Properties"]!;
        Assert.Equal("ProxyFleetSize", group["DesiredCapacity"]!["Ref"]!.ToString());
        var balancer = (JsonObject)three.Resources["ProxyLoadBalancer"]["Properties"]!;
        Assert.Equal("internal", balancer["Scheme"]!.ToString());
        Assert.Equal("network", balancer["Type"]!.ToString());
        Assert.Equal("10.10.2.200", balancer["SubnetMappings"]![0]!["PrivateIPv4Address"]!.ToString());
        var targets = (JsonObject)three.Resources["ProxyTargetGroup"]["Properties"]!;
        Assert.Equal("/readyz", targets["HealthCheckPath"]!.ToString());
        Assert.Equal("9128", targets["HealthCheckPort"]!.ToString());
        Assert.Equal(3128, targets["Port"]!.GetValue<int>());
        var listener = (JsonObject)three.Resources["ProxyListener"]["Properties"]!;
        Assert.Equal(3128, listener["Port"]!.GetValue<int>());

        // The fleet's admin server must answer the load balancer; the single instance's stays on loopback.
        Assert.Contains("\"AdminListen\": \"0.0.0.0:9128\"", Substitute((JsonObject)three.Resources["ProxyLaunchTemplate"]["Properties"]!["LaunchTemplateData"]!, DefaultAllowedDomains), StringComparison.Ordinal);
        Assert.Contains("\"AdminListen\": \"127.0.0.1:9128\"", Substitute((JsonObject)one.Resources["ProxyInstance"]["Properties"]!, DefaultAllowedDomains), StringComparison.Ordinal);
        var health = (JsonObject)three.Resources["ProxyHealthCheckIngress"]["Properties"]!;
        Assert.Equal(9128, health["FromPort"]!.GetValue<int>());
        Assert.Equal("10.10.2.0/24", health["CidrIp"]!.ToString());
    }

    [Fact]
    public void Render_NatUserData_RunsTheCommandsTheLabRunsInTheSameOrder()
    {
        var userData = UserDataText(Properties(RenderDefault(), "NatInstance"));
        var lines = userData.Split('\n');

        // The lab runs Commands(persist: false) in the NAT namespace; AWS runs Commands(persist: true): the lab's
        // list must be contained in order, and the AWS list is exactly what follows the package install.
        AssertInOrder(lines, NatInstanceSetup.Commands(persist: false));
        AssertInOrder(lines, NatInstanceSetup.Commands(persist: true));
        var start = Array.IndexOf(lines, "systemctl enable --now iptables");
        Assert.True(start > 0, userData);
        Assert.Equal(NatInstanceSetup.Commands(persist: true), lines.Skip(start + 1).TakeWhile(l => !l.StartsWith("# CloudWatch", StringComparison.Ordinal)).Where(l => l.Length > 0));
        Assert.Contains("iptables-services", userData, StringComparison.Ordinal);
        Assert.Contains("/etc/sysctl.d/", userData, StringComparison.Ordinal);
        Assert.DoesNotContain("eth0", userData, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NatUserData_IsValidBash()
    {
        AssertValidBash(UserDataText(Properties(RenderDefault(), "NatInstance")));
    }

    [Fact]
    public void Render_DefaultTopology_IsTheWalkthroughsEndState()
    {
        var loaded = TopologyLoader.Load(DefaultTopology.Path);
        var result = TemplateRenderer.Render(loaded.Model!);
        var template = result.Template!;

        Assert.Equal(2, result.Notes.Count);
        var route = Properties(template, "PrivateDefaultRoute");
        Assert.Equal("0.0.0.0/0", route["DestinationCidrBlock"]!.ToString());
        Assert.Equal("NatNetworkInterface", route["NetworkInterfaceId"]!["Ref"]!.ToString());
        Assert.False(Properties(template, "NatNetworkInterface")["SourceDestCheck"]!.GetValue<bool>());
        var publicRoute = Resource(template, "PublicDefaultRoute");
        Assert.Equal("IgwInternetGatewayAttachment", publicRoute["DependsOn"]!.ToString());
        Assert.Equal("IgwInternetGateway", publicRoute["Properties"]!["GatewayId"]!["Ref"]!.ToString());
    }

    [Fact]
    public void Render_AsWritten_KeepsTheTopologysRoutesAndTheValidatorFlagsTheNatCheck()
    {
        var template = RenderDefault(asWritten: true);

        Assert.False(((JsonObject)template["Resources"]!).ContainsKey("PrivateDefaultRoute"));
        Assert.True(Properties(template, "NatNetworkInterface")["SourceDestCheck"]!.GetValue<bool>());
        var findings = TemplateValidator.Validate(template);
        var finding = Assert.Single(findings, f => f.Resource == "NatNetworkInterface");
        Assert.Equal("Properties.SourceDestCheck", finding.Property);
        Assert.Contains("NAT instance", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_SecurityGroups_OpenTheProxyPortToThePrivateSubnetOnly()
    {
        var template = RenderDefault();
        var rules = Resource(template, "ProxySecurityGroup")["Properties"]!["SecurityGroupIngress"]!.AsArray();

        var proxyRules = rules.Where(r => r!["FromPort"]?.GetValue<int>() is <= 3128 && r["ToPort"]?.GetValue<int>() is >= 3128).ToList();
        var rule = Assert.Single(proxyRules);
        Assert.Equal("tcp", rule!["IpProtocol"]!.ToString());
        Assert.Equal("10.10.2.0/24", rule["CidrIp"]!.ToString());
        foreach (var (id, resource) in (JsonObject)template["Resources"]!)
        {
            if (id != "ProxySecurityGroup" && resource!["Type"]!.ToString() == "AWS::EC2::SecurityGroup")
            {
                Assert.DoesNotContain(resource["Properties"]!["SecurityGroupIngress"]!.AsArray(), r => r!["FromPort"]?.GetValue<int>() == 3128);
            }
        }

        var nat = Resource(template, "NatSecurityGroup")["Properties"]!["SecurityGroupIngress"]!.AsArray();
        Assert.Contains(nat, r => r!["IpProtocol"]!.ToString() == "icmp" && r["FromPort"]!.GetValue<int>() == -1);
        Assert.Contains(nat, r => r!["IpProtocol"]!.ToString() == "udp" && r["FromPort"]!.GetValue<int>() == 0 && r["ToPort"]!.GetValue<int>() == 65535);
    }

    [Fact]
    public void Render_Instances_UseTheCurrentAmazonLinuxAndAnInstanceProfileForSessionManager()
    {
        var template = RenderDefault();
        var ami = (JsonObject)template["Parameters"]!["LatestAmiId"]!;
        Assert.Equal("AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", ami["Type"]!.ToString());
        Assert.StartsWith("/aws/service/ami-amazon-linux-latest/al2023-ami", ami["Default"]!.ToString(), StringComparison.Ordinal);
        var role = Properties(template, "InstanceRole");
        Assert.Contains("AmazonSSMManagedInstanceCore", role["ManagedPolicyArns"]![0]!["Fn::Sub"]!.ToString(), StringComparison.Ordinal);

        foreach (var id in new[] { "NatInstance", "Public1Instance", "Private1Instance", "Private2Instance", "ProxyInstance" })
        {
            var instance = Properties(template, id);
            Assert.Equal("LatestAmiId", instance["ImageId"]!["Ref"]!.ToString());
            // The proxy has a role of its own, which may also read its policy parameter.
            Assert.Equal(id == "ProxyInstance" ? "ProxyInstanceProfile" : "InstanceProfile", instance["IamInstanceProfile"]!["Ref"]!.ToString());
            Assert.Equal("required", instance["MetadataOptions"]!["HttpTokens"]!.ToString());
        }

        // Elastic IPs sit on the instance's own interface before it boots.
        Assert.Contains("Public1EipAssociation", Resource(template, "Public1Instance")["DependsOn"]!.AsArray().Select(d => d!.ToString()));
        Assert.Equal("Public1NetworkInterface", Properties(template, "Public1EipAssociation")["NetworkInterfaceId"]!["Ref"]!.ToString());
    }

    [Fact]
    public void Render_Outputs_GiveTheElasticIpsTheProxyUrlAndTheInstanceIds()
    {
        var outputs = (JsonObject)RenderDefault()["Outputs"]!;

        Assert.Equal("http://10.10.2.200:3128", outputs["ProxyUrl"]!["Value"]!.ToString());
        Assert.Equal("NatEip", outputs["NatEip"]!["Value"]!["Ref"]!.ToString());
        Assert.Equal("Public1Eip", outputs["Public1Eip"]!["Value"]!["Ref"]!.ToString());
        foreach (var id in new[] { "NatInstance", "Public1Instance", "Private1Instance", "Private2Instance", "ProxyInstance" })
        {
            Assert.Equal(id, outputs[id + "Id"]!["Value"]!["Ref"]!.ToString());
        }

        Assert.Equal("SingleProxy", outputs["ProxyInstanceId"]!["Condition"]!.ToString());
    }

    [Fact]
    public void Render_NetworkAcls_BecomeEntriesWithProtocolNumbersAndAnAssociation()
    {
        var template = Render(TopologyFixtures.ParseDefaultWith("    routeTable: private\n", NetworkAclSnippet));

        var tcp = Properties(template, "PrivateNetworkAclInbound200");
        Assert.Equal(6, tcp["Protocol"]!.GetValue<int>());
        Assert.Equal(1024, tcp["PortRange"]!["From"]!.GetValue<int>());
        Assert.Equal(65535, tcp["PortRange"]!["To"]!.GetValue<int>());
        Assert.False(tcp["Egress"]!.GetValue<bool>());
        Assert.Equal(-1, Properties(template, "PrivateNetworkAclInbound300")["Icmp"]!["Type"]!.GetValue<int>());
        var deny = Properties(template, "PrivateNetworkAclOutbound200");
        Assert.Equal("deny", deny["RuleAction"]!.ToString());
        Assert.True(deny["Egress"]!.GetValue<bool>());
        Assert.Equal(17, deny["Protocol"]!.GetValue<int>());
        Assert.Equal("PrivateNetworkAcl", Properties(template, "PrivateSubnetNetworkAclAssociation")["NetworkAclId"]!["Ref"]!.ToString());
    }

    [Fact]
    public void Render_NamesThatCollideAsLogicalIds_AreRefusedWithBothNames()
    {
        var loaded = TopologyFixtures.ParseDefaultWith(
            "  - name: private-2\n    subnet: private\n    privateIp: 10.10.2.102\n",
            "  - name: private2\n    subnet: private\n    privateIp: 10.10.2.102\n    securityGroups: [private-host]\n  - name: private-2\n    subnet: private\n    privateIp: 10.10.2.103\n");
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));

        var result = TemplateRenderer.Render(loaded.Model!);

        Assert.Null(result.Template);
        Assert.Contains(result.Problems, p => p.Contains("'private2'", StringComparison.Ordinal) && p.Contains("'private-2'", StringComparison.Ordinal) && p.Contains("Private2Instance", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_ARouteToTheProxyInstance_IsRefusedWithTheReason()
    {
        var loaded = TopologyFixtures.ParseDefaultWith("    routes: []                # only the local route; the walk-through adds 0.0.0.0/0 -> nat\n", "    routes:\n      - { destination: 0.0.0.0/0, target: proxy }\n");
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));

        var result = TemplateRenderer.Render(loaded.Model!);

        Assert.Null(result.Template);
        var problem = Assert.Single(result.Problems);
        Assert.Contains("route table 'private' sends 0.0.0.0/0 to 'proxy'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ProxyUserData_WritesAConfigurationTheProxyAccepts()
    {
        foreach (var (name, _, properties) in ProxyShapes(RenderDefault()))
        {
            var script = Substitute(properties, "checkip.amazonaws.com,.example.com,*.example-bucket.s3.amazonaws.com");
            var config = Between(script, "<<'EGRESS_PROXY_CONFIG'\n", "EGRESS_PROXY_CONFIG\n");
            var domains = JsonNode.Parse(config)!["Proxy"]!["Policy"]!["Rules"]![0]!["Domains"]!.AsArray().Select(d => d!.ToString());
            Assert.Equal(["checkip.amazonaws.com", ".example.com", "*.example-bucket.s3.amazonaws.com"], domains);

            var file = Path.Combine(Path.GetTempPath(), $"proxy-{name}-{Guid.NewGuid():N}.json");
            File.WriteAllText(file, config);
            try
            {
                // The log directory is made by systemd on the instance; every other setting is checked as written.
                Assert.Equal("/var/log/egress-proxy/access.log", JsonNode.Parse(config)!["Proxy"]!["AccessLog"]!["Path"]!.ToString());
                var (code, output) = RunProcess(LabPrerequisites.DotnetHost(), [LabPrerequisites.ProxyAssembly(), "--check-config", file], new Dictionary<string, string> { ["Proxy__AccessLog__Path"] = "-" });
                Assert.True(code == 0, $"{name}: the proxy refused the rendered configuration:\n{output}");
            }
            finally
            {
                File.Delete(file);
            }
        }
    }

    [Fact]
    public void Render_ProxyUserData_WritesExactlyTheConfigurationTheLabWrites()
    {
        foreach (var (_, admin, properties) in ProxyShapes(RenderDefault()))
        {
            foreach (var domains in new[] { "checkip.amazonaws.com", "checkip.amazonaws.com,.example.com" })
            {
                var script = Substitute(properties, domains);
                var config = Between(script, "<<'EGRESS_PROXY_CONFIG'\n", "EGRESS_PROXY_CONFIG\n");

                // The file's JSON is written out by hand in UserData/proxy-instance.sh; the lab's comes from ProxyInstanceConfig.
                var expected = ProxyInstanceConfig.Text(ProxyInstanceConfig.Build(3128, admin, "/var/log/egress-proxy/access.log", ["10.10.0.0/16"], domains.Split(',')));
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(config)), $"{admin}, {domains}: the user-data's configuration differs from the lab's:\n{config}\nexpected:\n{expected}");
                if (!domains.Contains(',', StringComparison.Ordinal))
                {
                    // Several names share a line (Fn::Join); one name leaves the text exactly the lab's.
                    Assert.Equal(expected, config);
                }
            }
        }
    }

    [Fact]
    public void Render_ProxyUserData_IsValidBashAndCarriesTheSystemdUnitFromDeploy()
    {
        var script = Substitute(Properties(RenderDefault(), "ProxyInstance"), "checkip.amazonaws.com");
        var unit = Between(script, "<<'EGRESS_PROXY_UNIT'\n", "EGRESS_PROXY_UNIT\n");

        Assert.Equal(File.ReadAllText(RepositoryFiles.PathOf("deploy", "systemd", "egress-proxy.service")), unit);
        Assert.Contains("'https://example.com/egress-proxy.tar.gz'", script, StringComparison.Ordinal);
        Assert.Contains("sha256sum --check", script, StringComparison.Ordinal);
        Assert.Contains("Proxy__AccessLog__Path=- /opt/egress-proxy/ProxyInstance --check-config /etc/egress-proxy/proxy.json", script, StringComparison.Ordinal);
        Assert.Contains("LogsDirectory=egress-proxy", unit, StringComparison.Ordinal);
        AssertValidBash(script);
    }

    [Fact]
    public void Render_PolicyFromSsm_TheParameterHoldsTheFilesPolicyAndTheConfigurationNamesIt()
    {
        var template = RenderDefault();
        var parameter = Resource(template, TemplateRenderer.PolicyParameterId);
        Assert.Equal("PolicyFromSsm", parameter["Condition"]!.ToString());
        var properties = (JsonObject)parameter["Properties"]!;
        Assert.Equal("String", properties["Type"]!.ToString());
        Assert.Equal("/egress-lab/${AWS::StackName}/proxy-policy", properties["Name"]!["Fn::Sub"]!.ToString());
        const string domains = "checkip.amazonaws.com,.example.com";
        var value = FnSub.ResolveUserData(new JsonObject { ["Fn::Base64"] = properties["Value"]!.DeepClone() }, ParameterValues(domains));
        Assert.True(value.Length <= 4096, $"the default policy no longer fits the Standard tier's 4 KB ({value.Length} characters)");

        foreach (var (name, _, shape) in ProxyShapes(template))
        {
            var fileConfig = JsonNode.Parse(Between(Substitute(shape, domains), "<<'EGRESS_PROXY_CONFIG'\n", "EGRESS_PROXY_CONFIG\n"))!.AsObject();
            var script = Substitute(shape, domains, policyFromSsm: true);
            var ssmConfig = JsonNode.Parse(Between(script, "<<'EGRESS_PROXY_SSM_CONFIG'\n", "EGRESS_PROXY_SSM_CONFIG\n"))!.AsObject();
            AssertValidBash(script);

            // The parameter holds exactly the policy the file would; the file names the parameter instead of holding it.
            Assert.True(JsonNode.DeepEquals(fileConfig["Proxy"]!["Policy"], JsonNode.Parse(value)), $"{name}: the parameter's policy differs from the file's:\n{value}");
            var expected = fileConfig.DeepClone().AsObject();
            expected["Proxy"]!.AsObject().Remove("Policy");
            expected["Proxy"]!["PolicySource"] = new JsonObject { ["SsmParameter"] = "/egress-lab/egress-lab/proxy-policy", ["Region"] = "eu-west-1" };
            Assert.True(JsonNode.DeepEquals(expected, ssmConfig), $"{name}: the SSM configuration is not the file's with PolicySource for Policy:\n{ssmConfig}");
        }
    }

    [Fact]
    public void Render_PolicyFromSsm_OnlyTheProxyRoleMayReadTheParameterAndNothingMore()
    {
        var template = RenderDefault();
        Assert.Null(Properties(template, "InstanceRole")["Policies"]);
        var policies = Properties(template, "ProxyInstanceRole")["Policies"]!["Fn::If"]!.AsArray();
        Assert.Equal("PolicyFromSsm", policies[0]!.ToString());
        Assert.Equal("AWS::NoValue", policies[2]!["Ref"]!.ToString());
        var statement = Assert.Single(Assert.Single(policies[1]!.AsArray())!["PolicyDocument"]!["Statement"]!.AsArray())!;
        Assert.Equal("Allow", statement["Effect"]!.ToString());
        Assert.Equal("ssm:GetParameter", statement["Action"]!.ToString());
        Assert.Equal("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ProxyPolicyParameter}", statement["Resource"]!["Fn::Sub"]!.ToString());
        Assert.Equal("ProxyInstanceProfile", Properties(template, "ProxyLaunchTemplate")["LaunchTemplateData"]!["IamInstanceProfile"]!["Arn"]!["Fn::GetAtt"]![0]!.ToString());
        Assert.Equal("File", template["Parameters"]!["ProxyPolicySource"]!["Default"]!.ToString());
    }

    [Theory]
    [InlineData("checkip.amazonaws.com", true)]
    [InlineData("checkip.amazonaws.com,.example.com,*.example.org", true)]
    [InlineData("api_v2.example.com", true)]
    [InlineData("a\",\"b", false)]
    [InlineData("example.com, example.org", false)]
    [InlineData("", false)]
    [InlineData("example.com\\", false)]
    [InlineData("-example.com", false)]
    [InlineData("foo.*.com", false)]
    public void Render_AllowlistParameterPattern_AdmitsDomainListsAndNothingThatCouldBreakTheJson(string value, bool allowed)
    {
        var template = RenderDefault();

        var findings = TemplateValidator.Validate(template, new Dictionary<string, string> { ["AllowedDomains"] = value });

        Assert.Equal(allowed, !findings.Any(f => f.Property == "AllowedDomains"));
    }

    /// <summary>The proxy's two shapes, each with the admin address its user-data must give the proxy.</summary>
    private static (string Name, string AdminAddress, JsonObject Properties)[] ProxyShapes(JsonObject template) =>
    [
        ("single", "127.0.0.1", Properties(template, "ProxyInstance")),
        ("fleet", "0.0.0.0", (JsonObject)Properties(template, "ProxyLaunchTemplate")["LaunchTemplateData"]!),
    ];

    private const string DefaultAllowedDomains = TemplateRenderer.DefaultAllowedDomains;

    /// <summary>What the tests give the template's parameters and pseudo-parameters when they resolve user-data.</summary>
    internal static Dictionary<string, string> ParameterValues(string allowedDomains) => new()
    {
        ["AllowedDomains"] = allowedDomains,
        ["ProxyPackageUrl"] = "https://example.com/egress-proxy.tar.gz",
        ["ProxyPackageSha256"] = new string('a', 64),
        ["AWS::Region"] = "eu-west-1",
        ["AWS::StackName"] = "egress-lab",
        ["Condition:PolicyFromSsm"] = "false",
        ["Condition:" + TemplateRenderer.ShipToCloudWatch] = "true",
        [TemplateRenderer.PolicyParameterId] = "/egress-lab/egress-lab/proxy-policy",
        ["NatNetworkInterface"] = "eni-0123456789abcdef0",
    };

    /// <summary>A user-data Fn::Sub resolved as CloudFormation would, for a package URL and an allowlist.</summary>
    private static string Substitute(JsonObject properties, string allowedDomains, bool policyFromSsm = false)
    {
        var (_, variables) = FnSub.Parts(properties["UserData"]!);
        Assert.Equal(["ProxyPort", "AdminAddress", "AdminPort", "VpcCidr", "AllowedDomainList", "PolicyParameterName", "SystemdUnit", "CloudWatchAgentConfig", "PrimaryInterfaceMarker"], variables.Select(v => v.Key));
        var values = ParameterValues(allowedDomains);
        values["Condition:PolicyFromSsm"] = policyFromSsm ? "true" : "false";
        return FnSub.ResolveUserData(properties["UserData"]!, values);
    }

    private static string UserDataText(JsonNode properties) => FnSub.Parts(properties["UserData"]!).Text;

    internal static string Between(string text, string start, string end)
    {
        var from = text.IndexOf(start, StringComparison.Ordinal);
        Assert.True(from >= 0, $"no '{start.Trim()}' in:\n{text}");
        from += start.Length;
        var to = text.IndexOf(end, from, StringComparison.Ordinal);
        Assert.True(to >= 0, $"no '{end.Trim()}' after '{start.Trim()}'");
        return text[from..to];
    }

    private static void AssertValidBash(string script)
    {
        var file = Path.Combine(Path.GetTempPath(), $"user-data-{Guid.NewGuid():N}.sh");
        File.WriteAllText(file, script);
        try
        {
            var (code, output) = RunProcess("bash", "-n", file);
            Assert.True(code == 0, output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static void AssertInOrder(string[] lines, IReadOnlyList<string> expected)
    {
        var at = 0;
        foreach (var command in expected)
        {
            var found = Array.IndexOf(lines, command, at);
            Assert.True(found >= 0, $"'{command}' is missing from the user-data, or out of order:\n{string.Join('\n', lines)}");
            at = found + 1;
        }
    }

    internal static (int Code, string Output) RunProcess(string program, params string[] arguments) => RunProcess(program, arguments, new Dictionary<string, string>());

    internal static (int Code, string Output) RunProcess(string program, string[] arguments, Dictionary<string, string> variables)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in variables)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} did not finish within a minute");
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result);
    }
}
