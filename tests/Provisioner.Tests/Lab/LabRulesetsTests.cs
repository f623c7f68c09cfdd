using System.Net;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Lab;

public sealed class LabRulesetsTests
{
    private static TopologyModel Default()
    {
        var loaded = TopologyLoader.Load(DefaultTopology.Path);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        return loaded.Model!;
    }

    [Fact]
    public void SecurityGroups_NatInstance_AdmitsTheReferenceRulesAndDropsTheRest()
    {
        var model = Default();

        var ruleset = LabRulesets.SecurityGroups(model, model.Instance("nat"));

        Assert.Contains("ct state established,related accept", ruleset, StringComparison.Ordinal);
        // No SSH from the internet: instances are reached through SSM Session Manager (cfn-lint W2508).
        Assert.DoesNotContain("dport 22", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip saddr 0.0.0.0/0 ip protocol icmp accept", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip saddr 10.10.0.0/16 ip protocol tcp tcp dport 80 accept", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip saddr 10.10.0.0/16 ip protocol tcp tcp dport 443 accept", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip saddr 10.10.0.0/16 ip protocol udp accept", ruleset, StringComparison.Ordinal);
        Assert.EndsWith("    drop\n  }\n}\n", ruleset, StringComparison.Ordinal);
        // No egress rules in the groups: outbound is open, as AWS's default.
        Assert.DoesNotContain("chain egress", ruleset, StringComparison.Ordinal);
        Assert.StartsWith("table inet egress_lab_sg\ndelete table inet egress_lab_sg\n", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public void SecurityGroups_WithEgressRules_RestrictOutbound()
    {
        var model = Default();
        var group = model.SecurityGroups.Single(g => g.Name == "private-host") with
        {
            Egress = [new SecurityGroupRule(TrafficProtocol.Tcp, new PortRange(443, 443), IPNetwork.Parse("0.0.0.0/0"), null)],
        };
        model = model with { SecurityGroups = [.. model.SecurityGroups.Select(g => g.Name == group.Name ? group : g)] };

        var ruleset = LabRulesets.SecurityGroups(model, model.Instance("private-1"));

        Assert.Contains("chain egress", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip daddr 0.0.0.0/0 ip protocol tcp tcp dport 443 accept", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public void InternetGateway_MapsEachElasticIpOneToOne_AndForwardsNothingElse()
    {
        var ruleset = LabRulesets.InternetGateway(Default());

        Assert.Contains("ip daddr 203.0.113.10 dnat to 10.10.1.100", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip saddr 10.10.1.100 snat to 203.0.113.10", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip daddr 203.0.113.11 dnat to 10.10.1.10", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip saddr { 10.10.1.100, 10.10.1.10 } accept", ruleset, StringComparison.Ordinal);
        Assert.Contains("policy drop;", ruleset, StringComparison.Ordinal);
        Assert.DoesNotContain("10.10.2.", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public void SourceDestCheck_CoversOnlyInstancesWithTheCheckOn()
    {
        var model = Default();
        var layout = new LabLayout(model);
        Assert.Contains("ip saddr != 10.10.1.100 drop", LabRulesets.SourceDestCheck(layout), StringComparison.Ordinal);

        var off = model.WithInstance(model.Instance("nat") with { SourceDestCheck = false });
        var ruleset = LabRulesets.SourceDestCheck(new LabLayout(off));

        Assert.DoesNotContain("10.10.1.100", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip daddr != 10.10.2.101 drop", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public void NetworkAcls_AreOrderedByRuleNumber_AndDenyWhatNoRuleAllows()
    {
        var model = Default();
        var anywhere = IPNetwork.Parse("0.0.0.0/0");
        var acl = new NetworkAclSpec("private-acl",
            [
                new NetworkAclRule(200, TrafficProtocol.All, PortRange.All, anywhere, AclAction.Allow),
                new NetworkAclRule(100, TrafficProtocol.Tcp, new PortRange(22, 22), anywhere, AclAction.Deny),
            ],
            [new NetworkAclRule(100, TrafficProtocol.All, PortRange.All, anywhere, AclAction.Allow)]);
        model = model with
        {
            NetworkAcls = [acl],
            Subnets = [.. model.Subnets.Select(s => s.Name == "private" ? s with { NetworkAcl = "private-acl" } : s)],
        };

        var ruleset = LabRulesets.NetworkAcls(new LabLayout(model));

        var deny = ruleset.IndexOf("tcp dport 22 drop comment \"rule 100\"", StringComparison.Ordinal);
        var allow = ruleset.IndexOf("meta nfproto ipv4 return comment \"rule 200\"", StringComparison.Ordinal);
        Assert.True(deny > 0 && allow > deny, ruleset);
        Assert.Contains("iifname \"br1\" jump br1_out", ruleset, StringComparison.Ordinal);
        Assert.Contains("oifname \"br1\" jump br1_in", ruleset, StringComparison.Ordinal);
        Assert.Contains("drop comment \"*\"", ruleset, StringComparison.Ordinal);
        Assert.DoesNotContain("br0", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public void NatInstanceSetup_FindsThePrimaryInterface_AndIsSafeToRunTwice()
    {
        var lab = NatInstanceSetup.Commands(persist: false);
        var aws = NatInstanceSetup.Commands(persist: true);

        Assert.Contains(lab, l => l.Contains("ip -o -4 route show default", StringComparison.Ordinal));
        Assert.Contains(lab, l => l.StartsWith("iptables -t nat -C POSTROUTING -o \"$IFACE\" -j MASQUERADE", StringComparison.Ordinal));
        Assert.Contains("iptables -F FORWARD", lab);
        Assert.DoesNotContain(lab, l => l.Contains("eth0", StringComparison.Ordinal));
        Assert.DoesNotContain("service iptables save", lab);
        Assert.Contains("service iptables save", aws);
        Assert.Contains(aws, l => l.Contains("/etc/sysctl.d/", StringComparison.Ordinal));
    }
}
