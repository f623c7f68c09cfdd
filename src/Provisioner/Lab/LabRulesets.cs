using System.Globalization;
using System.Net;
using System.Text;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// The nftables rulesets that make the namespaces behave like AWS: security groups, network ACLs, the source/
/// destination check and the Internet Gateway's 1:1 NAT. Each is one table, written so that loading it replaces
/// the table's previous contents in one transaction, which makes every apply idempotent.
/// </summary>
internal static class LabRulesets
{
    public const string SecurityGroupTable = "egress_lab_sg";
    public const string UnsolicitedCounter = "unsolicited";
    public const string NetworkAclTable = "egress_lab_nacl";
    public const string SourceDestCheckTable = "egress_lab_sdc";
    public const string GatewayTable = "egress_lab_igw";

    /// <summary>
    /// An instance's security groups, enforced on its interface for traffic to it and through it (AWS applies
    /// them to forwarded traffic too, which is why the NAT instance's group admits HTTP from the VPC). Stateful:
    /// replies to allowed traffic pass. The named counter counts new inbound packets from outside the VPC.
    /// </summary>
    public static string SecurityGroups(TopologyModel model, InstanceSpec instance)
    {
        var groups = instance.SecurityGroups.Select(name => model.SecurityGroups.Single(g => g.Name == name)).ToList();
        var text = Begin("inet", SecurityGroupTable);
        text.Append(CultureInfo.InvariantCulture, $"  counter {UnsolicitedCounter} {{ }}\n");
        text.Append("  chain ingress {\n    type filter hook prerouting priority -150; policy accept;\n");
        text.Append(CultureInfo.InvariantCulture, $"    iifname != \"{LabLayout.InstanceInterface}\" accept\n");
        text.Append("    ct state established,related accept\n");
        text.Append(CultureInfo.InvariantCulture, $"    ip saddr != {model.Vpc.Cidr} counter name \"{UnsolicitedCounter}\"\n");
        foreach (var rule in groups.SelectMany(g => g.Ingress))
        {
            text.Append(CultureInfo.InvariantCulture, $"    {Match(rule.Protocol, rule.Ports, "saddr", rule.Peer)} accept\n");
        }

        text.Append("    drop\n  }\n");
        // A group without egress rules allows all outbound traffic, as on AWS; any group with rules restricts it.
        var egress = groups.Where(g => g.Egress is not null).SelectMany(g => g.Egress!).ToList();
        if (groups.Count > 0 && groups.All(g => g.Egress is not null))
        {
            text.Append("  chain egress {\n    type filter hook postrouting priority 150; policy accept;\n");
            text.Append(CultureInfo.InvariantCulture, $"    oifname != \"{LabLayout.InstanceInterface}\" accept\n");
            text.Append("    ct state established,related accept\n");
            foreach (var rule in egress)
            {
                text.Append(CultureInfo.InvariantCulture, $"    {Match(rule.Protocol, rule.Ports, "daddr", rule.Peer)} accept\n");
            }

            text.Append("    drop\n  }\n");
        }

        return End(text);
    }

    /// <summary>
    /// Network ACLs on the router, per subnet edge: stateless, in rule-number order, first match decides, and
    /// anything unmatched is denied. Traffic within a subnet never reaches the router, so ACLs do not see it,
    /// as on AWS. An allow returns to the base chain so the other subnet's ACL is still checked.
    /// </summary>
    public static string NetworkAcls(LabLayout layout)
    {
        var model = layout.Model;
        var text = Begin("inet", NetworkAclTable);
        var chains = new StringBuilder();
        text.Append("  chain forward {\n    type filter hook forward priority filter; policy accept;\n");
        foreach (var subnet in model.Subnets)
        {
            if (subnet.NetworkAcl is not { } aclName)
            {
                continue;
            }

            var acl = model.NetworkAcls.Single(a => a.Name == aclName);
            var bridge = layout.Bridge(subnet);
            text.Append(CultureInfo.InvariantCulture, $"    iifname \"{bridge}\" jump {bridge}_out\n");
            text.Append(CultureInfo.InvariantCulture, $"    oifname \"{bridge}\" jump {bridge}_in\n");
            AppendAclChain(chains, $"{bridge}_out", acl.Outbound, "daddr");
            AppendAclChain(chains, $"{bridge}_in", acl.Inbound, "saddr");
        }

        text.Append("  }\n");
        text.Append(chains);
        return End(text);
    }

    /// <summary>
    /// The source/destination check, on the router's bridge ports (the ENI, outside the instance, where its own
    /// firewall cannot undo it): a port whose instance has the check on drops IPv4 traffic that is not from or to
    /// the instance's own address.
    /// </summary>
    public static string SourceDestCheck(LabLayout layout)
    {
        var text = Begin("bridge", SourceDestCheckTable);
        var checkedInstances = layout.Model.Instances.Where(i => i.SourceDestCheck).ToList();
        // Frames from the instance must carry its address as source; frames to it, as destination.
        foreach (var (chain, hook, port, field) in new[] { ("from_instance", "prerouting", "iifname", "saddr"), ("to_instance", "postrouting", "oifname", "daddr") })
        {
            text.Append(CultureInfo.InvariantCulture, $"  chain {chain} {{\n    type filter hook {hook} priority filter; policy accept;\n");
            foreach (var instance in checkedInstances)
            {
                text.Append(CultureInfo.InvariantCulture, $"    {port} \"{layout.RouterPort(instance)}\" meta protocol ip ip {field} != {instance.PrivateIp} drop\n");
            }

            text.Append("  }\n");
        }

        return End(text);
    }

    /// <summary>
    /// The Internet Gateway: 1:1 NAT between each Elastic IP and its instance's private address, and nothing
    /// else. A VPC address without an Elastic IP is not forwarded, and only traffic to an Elastic IP (or replies)
    /// comes in.
    /// </summary>
    public static string InternetGateway(TopologyModel model)
    {
        // Instances' Elastic IPs and NAT gateways' alike: the gateway maps each to one private address.
        var mapped = model.ElasticIpMappings().ToList();
        var text = Begin("ip", GatewayTable);
        text.Append("  chain inbound_nat {\n    type nat hook prerouting priority dstnat; policy accept;\n");
        foreach (var (privateIp, elasticIp) in mapped)
        {
            text.Append(CultureInfo.InvariantCulture, $"    iifname \"{LabLayout.GatewayInternetSide}\" ip daddr {elasticIp} dnat to {privateIp}\n");
        }

        text.Append("  }\n  chain outbound_nat {\n    type nat hook postrouting priority srcnat; policy accept;\n");
        foreach (var (privateIp, elasticIp) in mapped)
        {
            text.Append(CultureInfo.InvariantCulture, $"    oifname \"{LabLayout.GatewayInternetSide}\" ip saddr {privateIp} snat to {elasticIp}\n");
        }

        text.Append("  }\n  chain forward {\n    type filter hook forward priority filter; policy drop;\n");
        text.Append("    ct state established,related accept\n");
        if (mapped.Count > 0)
        {
            var sources = string.Join(", ", mapped.Select(m => m.PrivateIp.ToString()));
            text.Append(CultureInfo.InvariantCulture, $"    iifname \"{LabLayout.GatewayVpcSide}\" oifname \"{LabLayout.GatewayInternetSide}\" ip saddr {{ {sources} }} accept\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"    iifname \"{LabLayout.GatewayInternetSide}\" oifname \"{LabLayout.GatewayVpcSide}\" ct status dnat accept\n");
        text.Append("  }\n");
        return End(text);
    }

    private static void AppendAclChain(StringBuilder text, string name, IReadOnlyList<NetworkAclRule> rules, string peerField)
    {
        text.Append(CultureInfo.InvariantCulture, $"  chain {name} {{\n");
        foreach (var rule in rules.OrderBy(r => r.Number))
        {
            var verdict = rule.Action == AclAction.Allow ? "return" : "drop";
            text.Append(CultureInfo.InvariantCulture, $"    {Match(rule.Protocol, rule.Ports, peerField, rule.Peer)} {verdict} comment \"rule {rule.Number}\"\n");
        }

        text.Append("    drop comment \"*\"\n  }\n");
    }

    /// <summary>An nft match for protocol, ports and peer; ports are matched as destination ports, as AWS does.</summary>
    internal static string Match(TrafficProtocol protocol, PortRange ports, string peerField, IPNetwork peer)
    {
        var parts = new List<string> { $"ip {peerField} {peer}" };
        switch (protocol)
        {
            case TrafficProtocol.Tcp or TrafficProtocol.Udp:
                var name = protocol == TrafficProtocol.Tcp ? "tcp" : "udp";
                parts.Add($"ip protocol {name}");
                if (!ports.IsAll)
                {
                    parts.Add($"{name} dport {ports}");
                }

                break;
            case TrafficProtocol.Icmp:
                parts.Add("ip protocol icmp");
                break;
            default:
                parts.Add("meta nfproto ipv4");
                break;
        }

        return string.Join(' ', parts);
    }

    // Declaring the table first makes the delete valid when it does not exist yet; the three statements load as
    // one transaction, so the table is never seen half-written.
    private static StringBuilder Begin(string family, string table) =>
        new StringBuilder().Append(CultureInfo.InvariantCulture, $"table {family} {table}\ndelete table {family} {table}\ntable {family} {table} {{\n");

    private static string End(StringBuilder text) => text.Append("}\n").ToString();
}
