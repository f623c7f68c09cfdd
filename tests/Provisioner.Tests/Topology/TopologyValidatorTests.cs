using System.Net;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Topology;

public sealed class TopologyValidatorTests
{
    private static TopologyModel LoadDefault()
    {
        var result = TopologyLoader.Load(DefaultTopology.Path);
        Assert.Empty(result.Errors);
        return result.Model!;
    }

    [Fact]
    public void Validate_WalkThroughRouteToTheNatInstance_HasNoErrors()
    {
        var model = LoadDefault();
        var edited = model.WithRouteTable(new RouteTableSpec("private", [new RouteSpec(IPNetwork.Parse("0.0.0.0/0"), "nat")]))
            .WithInstance(model.Instance("nat") with { SourceDestCheck = false });

        Assert.Empty(TopologyValidator.Validate(edited));
    }

    [Fact]
    public void Validate_EditedModelWithoutSourceMap_NamesTheItemFromItsPlaceInTheModel()
    {
        var model = LoadDefault();
        var edited = model.WithRouteTable(new RouteTableSpec("private", [new RouteSpec(IPNetwork.Parse("0.0.0.0/0"), "nta")]));

        var error = Assert.Single(TopologyValidator.Validate(edited));

        Assert.Equal("routeTables[1] 'private'.routes[0].target", error.Item);
        Assert.Null(error.Line);
        Assert.Equal(DefaultTopology.Path, error.Source);
        Assert.Equal("Did you mean 'nat'?", error.Fix);
    }

    [Fact]
    public void Validate_SeveralNatInstances_IsAllowed()
    {
        var model = LoadDefault();

        Assert.Empty(TopologyValidator.Validate(model.WithInstance(model.Instance("public-1") with { Role = InstanceRole.Nat })));
    }

    [Fact]
    public void Validate_RouteTableNotUsedBySubnets_IsAllowed()
    {
        var model = LoadDefault();
        var spare = new RouteTableSpec("spare", [new RouteSpec(IPNetwork.Parse("0.0.0.0/0"), "nat")]);

        Assert.Empty(TopologyValidator.Validate(model with { RouteTables = [.. model.RouteTables, spare] }));
    }

    [Fact]
    public void Validate_PortNumbersOutOfRange_AreReported()
    {
        var model = LoadDefault();
        var group = new SecurityGroupSpec("wide", "wide", [new SecurityGroupRule(TrafficProtocol.Tcp, new PortRange(1, 70000), IPNetwork.Parse("0.0.0.0/0"), null)], null);

        var error = Assert.Single(TopologyValidator.Validate(model with { SecurityGroups = [.. model.SecurityGroups, group] }));

        Assert.Equal("securityGroups[4] 'wide'.ingress[0].ports", error.Item);
        Assert.Contains("outside 0-65535", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ports: \"443\", source: 10.10.0.0/16, description: HTTPS", "ports: \"1024-65535\", source: 10.10.0.0/16, description: HTTPS")]
    [InlineData("ports: \"443\", source: 10.10.0.0/16, description: HTTPS", "ports: 443, source: 10.10.0.0/16, description: HTTPS")]
    [InlineData("ports: \"443\", source: 10.10.0.0/16, description: HTTPS", "ports: all, source: 10.10.0.0/16, description: HTTPS")]
    [InlineData("{ protocol: udp, source: 10.10.0.0/16", "{ protocol: \"-1\", source: 10.10.0.0/16")]
    [InlineData("{ protocol: udp, source: 10.10.0.0/16", "{ protocol: -1, source: 10.10.0.0/16")]
    [InlineData("    description: private instances\n", "    description: private instances\n    egress: []\n")]
    [InlineData("    description: private instances\n", "    egress:\n      - { protocol: tcp, ports: \"443\", destination: 0.0.0.0/0 }\n")]
    [InlineData("  allowedDomains: [checkip.lab.test, www.lab.test]", "  allowedDomains: [checkip.lab.test, .lab.test, a-1.b2.test]")]
    [InlineData("  - name: public-1\n", "  - name: public-1\n    role: nat\n    sourceDestCheck: false\n")]
    [InlineData("    routes: []       ", "    routes:\n      - { destination: 0.0.0.0/0, target: nat }\n      - { destination: 192.0.2.0/24, target: proxy }\n      #")]
    [InlineData("    routeTable: private\n", "    routeTable: private\n    networkAcl: private\n\nnetworkAcls:\n  - name: private\n    inbound:\n      - { number: 100, protocol: all, source: 10.10.0.0/16, action: allow }\n      - { number: 200, protocol: tcp, ports: \"1024-65535\", action: allow }\n    outbound:\n      - { number: 100, protocol: all, destination: 0.0.0.0/0, action: allow }\n")]
    [InlineData("proxy:\n  port: 3128\n", "proxy:\n")]
    [InlineData("      names: [checkip.lab.test]\n", "")]
    public void Parse_ValidVariation_HasNoErrors(string oldText, string newText)
    {
        var result = TopologyFixtures.ParseDefaultWith(oldText, newText);

        Assert.Empty(result.Errors);
        Assert.True(result.Succeeded);
    }

    [Theory]
    [InlineData("  cidr: 10.10.0.0/16", "  cidr: 10.0.0.0/8", "vpc.cidr", "AWS allows /16 to /28")]
    [InlineData("  cidr: 10.10.0.0/16", "  cidr: fd00::/48", "vpc.cidr", "IPv4 only")]
    [InlineData("  cidr: 10.10.0.0/16", "  cidr: 10.10.0.0", "vpc.cidr", "has no prefix length")]
    [InlineData("  cidr: 10.10.0.0/16", "  cidr: 10.010.0.0/16", "vpc.cidr", "without leading zeros")]
    [InlineData("    cidr: 10.10.1.0/24\n", "    CIDR: 10.10.1.0/24\n", "subnets[0] 'public'.CIDR", "unknown field 'CIDR'")]
    [InlineData("      - { protocol: tcp, ports: \"80\", source: 10.10.0.0/16, description: HTTP from the VPC }", "      - { protocol: tcp, ports: \"80\", destination: 10.10.0.0/16, description: HTTP from the VPC }", "securityGroups[0] 'nat'.ingress[1].destination", "unknown field 'destination'")]
    [InlineData("      - { protocol: tcp, ports: \"80\", source: 10.10.0.0/16, description: HTTP from the VPC }", "      - { protocol: tcp, ports: \"80,443\", source: 10.10.0.0/16, description: HTTP from the VPC }", "securityGroups[0] 'nat'.ingress[1].ports", "not a port or port range")]
    [InlineData("      - { protocol: tcp, ports: \"80\", source: 10.10.0.0/16, description: HTTP from the VPC }", "      - { protocol: all, ports: \"80\", source: 10.10.0.0/16, description: HTTP from the VPC }", "securityGroups[0] 'nat'.ingress[1].ports", "a protocol all rule has ports")]
    [InlineData("sourceDestCheck: true ", "sourceDestCheck: yes ", "instances[0] 'nat'.sourceDestCheck", "expected true or false, found the string 'yes'")]
    [InlineData("    role: nat\n", "    role: gateway\n", "instances[0] 'nat'.role", "unknown role 'gateway' (allowed: client, nat, proxy)")]
    [InlineData("    elasticIp: 203.0.113.11\n", "    elasticIp: 203.0.113.10\n", "instances[1] 'public-1'.elasticIp", "also used by instances[0] 'nat'")]
    [InlineData("    elasticIp: 203.0.113.11\n", "    elasticIp: 203.0.113.255\n", "instances[1] 'public-1'.elasticIp", "broadcast address of internet.elasticIpRange")]
    [InlineData("    privateIp: 10.10.2.200\n", "    privateIp: 10.10.2.255\n", "instances[4] 'proxy'.privateIp", "the broadcast address")]
    [InlineData("    privateIp: 10.10.2.200\n", "    privateIp: 10.10.1.200\n", "instances[4] 'proxy'.privateIp", "outside its subnet 'private'")]
    [InlineData("    securityGroups: [nat]\n", "    securityGroups: [nat, nat]\n", "instances[0] 'nat'.securityGroups[1]", "listed twice")]
    [InlineData("  - name: proxy\n    role: proxy\n", "  - name: proxy-instance-with-long-name\n    role: proxy\n", "instances[4] 'proxy-instance-with-long-name'.name", "network namespace name")]
    [InlineData("  port: 3128\n", "  port: 0\n", "proxy.port", "outside 1-65535")]
    [InlineData("  port: 3128\n", "  port: \"3128\"\n", "proxy.port", "expected a whole number, found the string '3128'")]
    [InlineData("checkip.lab.test, www.lab.test]", "checkip.lab.test, \"*.lab.test\"]", "proxy.allowedDomains[1]", "write '.lab.test'")]
    [InlineData("checkip.lab.test, www.lab.test]", "checkip.lab.test, WWW.lab.test]", "proxy.allowedDomains[1]", "upper-case")]
    [InlineData("checkip.lab.test, www.lab.test]", "checkip.lab.test, -www.lab.test]", "proxy.allowedDomains[1]", "starts or ends with '-'")]
    [InlineData("  cidr: 198.51.100.0/24\n", "  cidr: 198.51.100.0/24\n  elasticIpRange: 203.0.113.0/24\n", "syntax", "Duplicate key")]
    [InlineData("      names: [www.lab.test, denied.lab.test]", "      names: [www.lab.test, checkip.lab.test]", "internet.hosts[1] 'www'.names[1]", "also given to internet.hosts[0] 'checkip'")]
    [InlineData("    - name: www\n", "    - name: checkip\n", "internet.hosts[1] 'checkip'.name", "already used by internet.hosts[0] 'checkip'")]
    [InlineData("      service: web ", "      service: [web] ", "internet.hosts[1] 'www'.service", "expected a single value (checkip, web), found a list")]
    [InlineData("  - name: public-1\n", "  - name: igw\n", "internetGateway.name", "same name as instances[1] 'igw'")]
    [InlineData("        target: igw\n", "        target: \"\"\n", "routeTables[0] 'public'.routes[0].target", "the route has no target")]
    [InlineData("        target: igw\n", "", "routeTables[0] 'public'.routes[0].target", "missing required field 'target'")]
    [InlineData("name: egress-lab\n", "", "name", "missing required field 'name'")]
    [InlineData("name: egress-lab\n", "name: egress-lab\nversion: 2\n", "version", "unknown field 'version'")]
    public void Parse_InvalidVariation_ReportsOneError(string oldText, string newText, string item, string phrase)
    {
        var result = TopologyFixtures.ParseDefaultWith(oldText, newText);

        var error = Assert.Single(result.Errors);
        Assert.Equal(item, error.Item);
        Assert.Contains(phrase, error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Line);
        Assert.Null(result.Model);
    }

    [Fact]
    public void Parse_ElasticIpRangeOverlappingTheVpc_ReportsTheOverlapAndTheAddressesOutsideIt()
    {
        var result = TopologyFixtures.ParseDefaultWith("  elasticIpRange: 203.0.113.0/24\n", "  elasticIpRange: 10.10.128.0/24\n");

        Assert.Equal(
            ["instances[0] 'nat'.elasticIp", "instances[1] 'public-1'.elasticIp", "internet.elasticIpRange"],
            result.Errors.Select(e => e.Item));
        Assert.Contains("overlaps the VPC 10.10.0.0/16", result.Errors[2].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PeerWordOfTheOtherDirection_SaysWhichWordToUse()
    {
        var result = TopologyFixtures.ParseDefaultWith(
            "    description: private instances\n",
            "    description: private instances\n    egress:\n      - { protocol: all, source: 0.0.0.0/0 }\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal("securityGroups[2] 'private-host'.egress[0].source", error.Item);
        Assert.Equal("Outbound rules name their peer with 'destination'.", error.Fix);
    }

    [Fact]
    public void Parse_BrokenSubnet_DoesNotAlsoReportItsInstancesAsInUnknownSubnet()
    {
        var result = TopologyFixtures.ParseDefaultWith("    cidr: 10.10.2.0/24\n", "    cidr: [10.10.2.0/24]\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal("subnets[1] 'private'.cidr", error.Item);
    }

    [Fact]
    public void Parse_BrokenInstance_DoesNotAlsoReportRoutesToIt()
    {
        var text = TopologyFixtures.DefaultText
            .Replace("    routes: []", "    routes: [{ destination: 0.0.0.0/0, target: nat }]", StringComparison.Ordinal)
            .Replace("    privateIp: 10.10.1.100\n", "    privateIp: 10.10.1.x\n", StringComparison.Ordinal);

        var error = Assert.Single(TopologyLoader.Parse(text, "variant.yaml", TopologyFormat.Yaml).Errors);

        Assert.Equal("instances[0] 'nat'.privateIp", error.Item);
    }

    [Fact]
    public void Parse_HostBitsInASubnet_ReportsOnceAndChecksTheRestWithTheNetworkMeant()
    {
        var result = TopologyFixtures.ParseDefaultWith("    cidr: 10.10.2.0/24\n", "    cidr: 10.10.2.7/24\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal("subnets[1] 'private'.cidr", error.Item);
        Assert.Equal("Use the network address 10.10.2.0/24.", error.Fix);
    }
}
