using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Topology;

/// <summary>
/// One fixture per broken rule (Fixtures/invalid): each is the default topology with one thing broken, and must
/// produce exactly one error, naming the item, on the line where the problem is written.
/// </summary>
public sealed class InvalidTopologyTests
{
    /// <summary>
    /// The fixture, the text on the line the error must point at ("after|text" for the first "text" at or after
    /// "after"), the item, and a phrase of the message.
    /// </summary>
    public static TheoryData<string, string, string, string> Cases { get; } = new()
    {
        { "overlapping-subnets.yaml", "cidr: 10.10.0.0/22", "subnets[1] 'private'.cidr", "overlaps subnets[0] 'public' (10.10.1.0/24)" },
        { "subnet-outside-vpc.yaml", "cidr: 10.20.0.0/24", "subnets[2] 'spare'.cidr", "is outside the VPC 10.10.0.0/16" },
        { "subnet-unknown-route-table.yaml", "routeTable: privat", "subnets[1] 'private'.routeTable", "unknown route table 'privat'" },
        { "duplicate-private-ip.yaml", "- name: private-2|privateIp", "instances[3] 'private-2'.privateIp", "also used by instances[2] 'private-1'" },
        { "duplicate-instance-name.yaml", "privateIp: 10.10.2.101|- name: private-1", "instances[3] 'private-1'.name", "already used by instances[2] 'private-1'" },
        { "invalid-instance-name.yaml", "- name: Public-1", "instances[1] 'Public-1'.name", "cannot be a network namespace name" },
        { "route-unknown-target.yaml", "target: nta", "routeTables[1] 'private'.routes[0].target", "route to unknown target 'nta'" },
        { "route-inside-vpc.yaml", "destination: 10.10.3.0/24", "routeTables[1] 'private'.routes[0].destination", "the local route already covers" },
        { "duplicate-route-destination.yaml", "target: igw|destination: 0.0.0.0/0", "routeTables[0] 'public'.routes[1].destination", "already routed by routeTables[0] 'public'.routes[0]" },
        { "route-to-missing-gateway.yaml", "target: igw", "routeTables[0] 'public'.routes[0].target", "the topology has no internet gateway" },
        { "host-unknown-subnet.yaml", "subnet: privat", "instances[2] 'private-1'.subnet", "host in unknown subnet 'privat'" },
        { "unknown-field.yaml", "cdir: 10.10.1.0/24", "subnets[0] 'public'.cdir", "unknown field 'cdir'" },
        { "bad-cidr.yaml", "cidr: 10.10.1.0/33", "subnets[0] 'public'.cidr", "not an IPv4 CIDR block" },
        { "cidr-host-bits.yaml", "cidr: 10.10.0.1/16", "vpc.cidr", "host bits set" },
        { "reserved-private-ip.yaml", "privateIp: 10.10.2.1", "instances[2] 'private-1'.privateIp", "is reserved in subnet 'private'" },
        { "eip-outside-range.yaml", "elasticIp: 192.0.2.11", "instances[1] 'public-1'.elasticIp", "outside internet.elasticIpRange 203.0.113.0/24" },
        { "ports-on-icmp.yaml", "ports: \"8\"", "securityGroups[1] 'public-host'.ingress[1].ports", "only tcp and udp rules have ports" },
        { "port-range-backwards.yaml", "3128-80", "securityGroups[3] 'proxy'.ingress[0].ports", "runs backwards" },
        { "network-acl-rule-number.yaml", "number: 0", "networkAcls[0] 'private'.inbound[0].number", "outside 1-32766" },
        { "unknown-security-group.yaml", "[private-hosts]", "instances[3] 'private-2'.securityGroups[0]", "unknown security group 'private-hosts'" },
        { "two-proxies.yaml", "privateIp: 10.10.2.102|role: proxy", "instances[4] 'proxy'.role", "a second instance with role proxy" },
        { "proxy-bad-domain.yaml", "www_lab.test", "proxy.allowedDomains[1]", "'www_lab.test' has a character other than" },
        { "no-checkip-host.yaml", "  hosts:", "internet.hosts", "no internet host has service checkip" },
        { "internet-host-router-address.yaml", "address: 198.51.100.1", "internet.hosts[0] 'checkip'.address", "the lab's internet router" },
        { "yaml-syntax.yaml", "   privateIp: 10.10.1.100", "syntax", "invalid YAML" },
        { "json-syntax.json", "\"internetGateway\"", "syntax", "invalid JSON" },
        { "wrong-type.yaml", "subnet: [private]", "instances[2] 'private-1'.subnet", "expected a string, found a list" },
        { "missing-required.yaml", "- name: private-2", "instances[3] 'private-2'.privateIp", "missing required field 'privateIp'" },
        { "failover-not-nat.yaml", "failover: asg-eni", "instances[1] 'public-1'.failover", "failover applies to NAT instances only" },
        { "failover-unknown.yaml", "failover: asg", "instances[0] 'nat'.failover", "unknown failover 'asg' (allowed: none, asg-eni)" },
        { "unknown-enum.yaml", "protocol: tpc", "securityGroups[3] 'proxy'.ingress[0].protocol", "unknown protocol 'tpc' (allowed: tcp, udp, icmp, all, -1)" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Load_FixtureWithOneRuleBroken_ReportsExactlyThatError(string fixture, string lineText, string item, string phrase)
    {
        var path = TopologyFixtures.Invalid(fixture);

        var result = TopologyLoader.Load(path);

        Assert.False(result.Succeeded);
        Assert.Null(result.Model);
        var error = Assert.Single(result.Errors);
        Assert.Equal(item, error.Item);
        Assert.Contains(phrase, error.Message, StringComparison.Ordinal);
        Assert.Equal(LineOf(path, lineText), error.Line);
        Assert.StartsWith($"{path}:{error.Line}: {item}: ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains(fixture, error.ToString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(error.Fix));
        Assert.True(error.Fix.EndsWith('.') || error.Fix.EndsWith('?'), $"'{error.Fix}' is not a sentence");
        Assert.DoesNotContain('\n', error.ToString());
    }

    [Theory]
    [InlineData("unknown-field.yaml", "Did you mean 'cidr'?")]
    [InlineData("route-unknown-target.yaml", "Did you mean 'nat'?")]
    [InlineData("host-unknown-subnet.yaml", "Did you mean 'private'?")]
    [InlineData("unknown-security-group.yaml", "Did you mean 'private-host'?")]
    [InlineData("unknown-enum.yaml", "Did you mean 'tcp'?")]
    [InlineData("cidr-host-bits.yaml", "Use the network address 10.10.0.0/16.")]
    [InlineData("reserved-private-ip.yaml", "Use an address from 10.10.2.4 to 10.10.2.254.")]
    public void Load_FixtureWithATypo_SuggestsTheFix(string fixture, string fix)
    {
        var error = Assert.Single(TopologyLoader.Load(TopologyFixtures.Invalid(fixture)).Errors);

        Assert.EndsWith(fix, error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Cases_CoverEveryInvalidFixture()
    {
        var files = Directory.GetFiles(Path.Combine(TopologyFixtures.Directory, "invalid")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        var covered = Cases.Select(row => row.Data.Item1).Order(StringComparer.Ordinal);

        Assert.Equal(files, covered);
    }

    private static int LineOf(string path, string lineText)
    {
        var parts = lineText.Split('|');
        var lines = File.ReadAllLines(path);
        var start = parts.Length == 2 ? Array.FindIndex(lines, l => l.Contains(parts[0], StringComparison.Ordinal)) : 0;
        Assert.True(start >= 0, $"'{parts[0]}' is not in {path}");
        var index = Array.FindIndex(lines, start, l => l.Contains(parts[^1], StringComparison.Ordinal));
        Assert.True(index >= 0, $"'{parts[^1]}' is not in {path}");
        return index + 1;
    }
}
