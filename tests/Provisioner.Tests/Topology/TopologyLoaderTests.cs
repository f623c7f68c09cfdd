using System.Net;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Topology;

public sealed class TopologyLoaderTests
{
    private static readonly Lazy<TopologyModel> Default = new(() =>
    {
        var result = TopologyLoader.Load(DefaultTopology.Path);
        Assert.Empty(result.Errors);
        return result.Model!;
    });

    [Fact]
    public void Load_DefaultTopology_SucceedsWithoutErrors()
    {
        var result = TopologyLoader.Load(DefaultTopology.Path);

        Assert.Empty(result.Errors);
        Assert.True(result.Succeeded);
        Assert.Equal("egress-lab", result.Model!.Name);
        Assert.Equal(DefaultTopology.Path, result.Model.Source);
    }

    [Fact]
    public void Load_DefaultTopology_HasTheWalkThroughVpcSubnetsAndRouteTables()
    {
        var model = Default.Value;

        Assert.Equal(IPNetwork.Parse("10.10.0.0/16"), model.Vpc.Cidr);
        Assert.Equal(IPAddress.Parse("10.10.0.2"), model.Vpc.Resolver);
        Assert.Equal("igw", model.InternetGateway?.Name);
        Assert.Equal(["public", "private"], model.Subnets.Select(s => s.Name));
        Assert.Equal(IPNetwork.Parse("10.10.1.0/24"), model.Subnet("public").Cidr);
        Assert.Equal(IPNetwork.Parse("10.10.2.0/24"), model.Subnet("private").Cidr);
        Assert.Equal("public", model.Subnet("public").RouteTable);
        Assert.Equal("private", model.Subnet("private").RouteTable);
        Assert.All(model.Subnets, s => Assert.Null(s.NetworkAcl));
        Assert.Empty(model.NetworkAcls);
        var publicRoute = Assert.Single(model.RouteTable("public").Routes);
        Assert.Equal(new RouteSpec(IPNetwork.Parse("0.0.0.0/0"), "igw"), publicRoute);
        Assert.Empty(model.RouteTable("private").Routes);
    }

    [Theory]
    [InlineData("nat", "Nat", "public", "10.10.1.100", "203.0.113.10", "nat")]
    [InlineData("public-1", "Client", "public", "10.10.1.10", "203.0.113.11", "public-host")]
    [InlineData("private-1", "Client", "private", "10.10.2.101", null, "private-host")]
    [InlineData("private-2", "Client", "private", "10.10.2.102", null, "private-host")]
    [InlineData("proxy", "Proxy", "private", "10.10.2.200", null, "proxy")]
    public void Load_DefaultTopology_HasTheInstance(string name, string role, string subnet, string privateIp, string? elasticIp, string securityGroup)
    {
        var instance = Default.Value.Instance(name);

        Assert.Equal(Enum.Parse<InstanceRole>(role), instance.Role);
        Assert.Equal(subnet, instance.Subnet);
        Assert.Equal(IPAddress.Parse(privateIp), instance.PrivateIp);
        Assert.Equal(elasticIp is null ? null : IPAddress.Parse(elasticIp), instance.ElasticIp);
        Assert.Equal([securityGroup], instance.SecurityGroups);
        Assert.True(instance.SourceDestCheck);
    }

    [Fact]
    public void Load_DefaultTopology_HasFiveInstancesAndTwoInternetHosts()
    {
        var model = Default.Value;

        Assert.Equal(5, model.Instances.Count);
        Assert.Equal(IPNetwork.Parse("198.51.100.0/24"), model.Internet.Cidr);
        Assert.Equal(IPNetwork.Parse("203.0.113.0/24"), model.Internet.ElasticIpRange);
        Assert.Collection(
            model.Internet.Hosts,
            h =>
            {
                Assert.Equal(("checkip", IPAddress.Parse("198.51.100.10"), InternetService.CheckIp), (h.Name, h.Address, h.Service));
                Assert.Equal(["checkip.lab.test"], h.Names);
            },
            h =>
            {
                Assert.Equal(("www", IPAddress.Parse("198.51.100.20"), InternetService.Web), (h.Name, h.Address, h.Service));
                Assert.Equal(["www.lab.test", "denied.lab.test"], h.Names);
            });
        Assert.Equal(3128, model.Proxy.Port);
        Assert.Equal(["checkip.lab.test", "www.lab.test"], model.Proxy.AllowedDomains);
    }

    [Fact]
    public void Load_DefaultTopology_HasFourSecurityGroupsAndTheNatGroupsRules()
    {
        var model = Default.Value;
        var vpc = IPNetwork.Parse("10.10.0.0/16");
        var anywhere = IPNetwork.Parse("0.0.0.0/0");

        Assert.Equal(["nat", "public-host", "private-host", "proxy"], model.SecurityGroups.Select(g => g.Name));
        var nat = model.SecurityGroups[0];
        Assert.Equal("NAT instance", nat.Description);
        Assert.Null(nat.Egress);
        Assert.Equal(
            [
                new SecurityGroupRule(TrafficProtocol.Icmp, PortRange.All, anywhere, "ICMP from anywhere"),
                new SecurityGroupRule(TrafficProtocol.Tcp, new PortRange(80, 80), vpc, "HTTP from the VPC"),
                new SecurityGroupRule(TrafficProtocol.Tcp, new PortRange(443, 443), vpc, "HTTPS from the VPC"),
                new SecurityGroupRule(TrafficProtocol.Udp, PortRange.All, vpc, "all UDP from the VPC"),
            ],
            nat.Ingress);
    }

    [Fact]
    public void Load_JsonVersionOfDefault_EqualsTheYamlModel()
    {
        var json = TopologyLoader.Load(Path.Combine(TopologyFixtures.Directory, "default.json"));

        Assert.Empty(json.Errors);
        Assert.Equal(TopologyFixtures.Canonical(Default.Value), TopologyFixtures.Canonical(json.Model!));
    }

    [Fact]
    public void Load_MissingFile_ReportsAnErrorInsteadOfThrowing()
    {
        var path = Path.Combine(Path.GetTempPath(), $"no-such-topology-{Guid.NewGuid():N}.yaml");

        var result = TopologyLoader.Load(path);

        Assert.False(result.Succeeded);
        Assert.Null(result.Model);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Source);
        Assert.Null(error.Line);
        Assert.Equal("file", error.Item);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains(DefaultTopology.Path, error.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("topology.txt", "'.txt'")]
    [InlineData("topology", "no extension")]
    [InlineData("topology.yaml.bak", "'.bak'")]
    public void Load_UnsupportedExtension_SaysWhichExtensionsAreAccepted(string name, string phrase)
    {
        var result = TopologyLoader.Load(Path.Combine(TopologyFixtures.Directory, name));

        var error = Assert.Single(result.Errors);
        Assert.Contains(phrase, error.Message, StringComparison.Ordinal);
        Assert.Contains(".yaml, .yml or .json", error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UpperCaseExtension_IsAccepted()
    {
        var path = Path.Combine(Path.GetTempPath(), $"topology-{Guid.NewGuid():N}.YML");
        File.Copy(DefaultTopology.Path, path);
        try
        {
            Assert.True(TopologyLoader.Load(path).Succeeded);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_DirectoryInsteadOfFile_ReportsAnErrorInsteadOfThrowing()
    {
        var path = Path.Combine(Path.GetTempPath(), $"topology-{Guid.NewGuid():N}.yaml");
        Directory.CreateDirectory(path);
        try
        {
            var error = Assert.Single(TopologyLoader.Load(path).Errors);
            Assert.Equal("file", error.Item);
        }
        finally
        {
            Directory.Delete(path);
        }
    }

    [Fact]
    public void Load_TwoIndependentErrors_ReportsBothInFileOrder()
    {
        var path = Path.Combine(TopologyFixtures.Directory, "two-errors.yaml");

        var result = TopologyLoader.Load(path);

        Assert.Null(result.Model);
        Assert.Collection(
            result.Errors,
            e =>
            {
                Assert.Equal("subnets[0] 'public'.cdir", e.Item);
                Assert.Contains("did you mean 'cidr'?", e.ToString(), StringComparison.OrdinalIgnoreCase);
            },
            e =>
            {
                Assert.Equal("instances[3] 'private-2'.privateIp", e.Item);
                Assert.Contains("also used by instances[2] 'private-1'", e.Message, StringComparison.Ordinal);
            });
    }

    [Fact]
    public void Parse_ManyUnrelatedProblems_ReportsEveryOne()
    {
        var text = TopologyFixtures.DefaultText
            .Replace("  port: 3128\n", "  port: 70000\n", StringComparison.Ordinal)
            .Replace("    subnet: public\n    privateIp: 10.10.1.10\n", "    subnet: publik\n    privateIp: 10.10.1.10\n", StringComparison.Ordinal)
            .Replace("sourceDestCheck: true ", "sourceDestCheck: yes ", StringComparison.Ordinal)
            .Replace("      address: 198.51.100.20\n", "      address: 198.51.100.10\n", StringComparison.Ordinal);

        var result = TopologyLoader.Parse(text, "many.yaml", TopologyFormat.Yaml);

        Assert.Equal(
            [
                "instances[0] 'nat'.sourceDestCheck",
                "instances[1] 'public-1'.subnet",
                "proxy.port",
                "internet.hosts[1] 'www'.address",
            ],
            result.Errors.Select(e => e.Item));
        Assert.All(result.Errors, e => Assert.NotNull(e.Line));
    }

    [Fact]
    public void Parse_UnclosedFlowSequence_ReportsSyntaxErrorAtItsLine()
    {
        var text = TopologyFixtures.DefaultText.Replace("securityGroups: [nat]", "securityGroups: [nat", StringComparison.Ordinal);
        var line = text.Split('\n').ToList().FindIndex(l => l.Contains("securityGroups: [nat", StringComparison.Ordinal)) + 1;

        var error = Assert.Single(TopologyLoader.Parse(text, "open.yaml", TopologyFormat.Yaml).Errors);

        Assert.Equal("syntax", error.Item);
        Assert.Equal(line, error.Line);
    }

    [Theory]
    [InlineData("", "Yaml")]
    [InlineData("# only a comment\n", "Yaml")]
    [InlineData("  \n", "Json")]
    public void Parse_EmptyDocument_ReportsTheFileIsEmpty(string text, string format)
    {
        var error = Assert.Single(TopologyLoader.Parse(text, "empty", Enum.Parse<TopologyFormat>(format)).Errors);

        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[1, 2]", "Yaml")]
    [InlineData("just text", "Yaml")]
    [InlineData("[1, 2]", "Json")]
    public void Parse_RootIsNotAMapping_ReportsWhatItFound(string text, string format)
    {
        var error = Assert.Single(TopologyLoader.Parse(text, "root", Enum.Parse<TopologyFormat>(format)).Errors);

        Assert.Equal("document", error.Item);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void Parse_YamlWithTwoDocuments_AsksForOne()
    {
        var error = Assert.Single(TopologyLoader.Parse(TopologyFixtures.DefaultText + "---\nname: other\n", "two.yaml", TopologyFormat.Yaml).Errors);

        Assert.Contains("2 YAML documents", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RecursiveYamlAliases_ReportsInsteadOfExpanding()
    {
        var text = "a: &a [*a, *a]\n";

        var result = TopologyLoader.Parse(text, "laughs.yaml", TopologyFormat.Yaml);

        Assert.NotEmpty(result.Errors);
        Assert.Null(result.Model);
    }

    [Fact]
    public void Parse_JsonDuplicateField_ReportsItWithItsLine()
    {
        var text = File.ReadAllText(Path.Combine(TopologyFixtures.Directory, "default.json"))
            .Replace("\"name\": \"egress-lab\",", "\"name\": \"egress-lab\",\n  \"name\": \"other\",", StringComparison.Ordinal);

        var error = Assert.Single(TopologyLoader.Parse(text, "dup.json", TopologyFormat.Json).Errors);

        Assert.Equal("name", error.Item);
        Assert.Equal(3, error.Line);
        Assert.Contains("more than once", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_JsonWrongType_ReportsTheLineOfTheValue()
    {
        var text = File.ReadAllText(Path.Combine(TopologyFixtures.Directory, "default.json"))
            .Replace("\"sourceDestCheck\": true", "\"sourceDestCheck\": \"true\"", StringComparison.Ordinal);
        var line = text.Split('\n').ToList().FindIndex(l => l.Contains("sourceDestCheck", StringComparison.Ordinal)) + 1;

        var error = Assert.Single(TopologyLoader.Parse(text, "type.json", TopologyFormat.Json).Errors);

        Assert.Equal("instances[0] 'nat'.sourceDestCheck", error.Item);
        Assert.Equal(line, error.Line);
        Assert.Equal("expected true or false, found the string 'true'", error.Message);
    }

    [Fact]
    public void Parse_JsonWithCommentsAndTrailingCommas_IsAccepted()
    {
        var text = File.ReadAllText(Path.Combine(TopologyFixtures.Directory, "default.json"))
            .Replace("\"name\": \"egress-lab\",", "// the lab\n  \"name\": \"egress-lab\",", StringComparison.Ordinal)
            .Replace("\"cidr\": \"10.10.0.0/16\"", "\"cidr\": \"10.10.0.0/16\",", StringComparison.Ordinal);

        Assert.Empty(TopologyLoader.Parse(text, "comments.json", TopologyFormat.Json).Errors);
    }

    [Theory]
    [InlineData("Yaml")]
    [InlineData("Json")]
    public void Parse_TextStartingWithByteOrderMark_IsAccepted(string format)
    {
        var path = format == "Json" ? Path.Combine(TopologyFixtures.Directory, "default.json") : DefaultTopology.Path;

        var result = TopologyLoader.Parse("\uFEFF" + File.ReadAllText(path), "bom", Enum.Parse<TopologyFormat>(format));

        Assert.Empty(result.Errors);
    }

    [Fact]
    public void Parse_JsonWithOnlyAComment_ReportsASyntaxError()
    {
        var error = Assert.Single(TopologyLoader.Parse("// nothing\n", "comment.json", TopologyFormat.Json).Errors);

        Assert.Equal("syntax", error.Item);
    }

    [Fact]
    public void TopologyError_ToString_IsOneLineWithSourceLineItemMessageAndFix()
    {
        var withLine = new TopologyError("lab.yaml", 12, "vpc.cidr", "'10.10.0.1/16' has host bits set", "Use the network address 10.10.0.0/16.");
        var withoutLine = withLine with { Line = null };

        Assert.Equal("lab.yaml:12: vpc.cidr: '10.10.0.1/16' has host bits set. Use the network address 10.10.0.0/16.", withLine.ToString());
        Assert.Equal("lab.yaml: vpc.cidr: '10.10.0.1/16' has host bits set. Use the network address 10.10.0.0/16.", withoutLine.ToString());
    }
}
