using System.Globalization;
using System.Text;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Topology;

/// <summary>Paths of the fixture files, and a canonical text form of a model for comparing two of them.</summary>
internal static class TopologyFixtures
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Topology", "Fixtures");

    public static string Invalid(string name) => Path.Combine(Directory, "invalid", name);

    public static string DefaultText => File.ReadAllText(DefaultTopology.Path);

    /// <summary>Parses the default topology with one text replaced (the replaced text must occur exactly once).</summary>
    public static TopologyLoadResult ParseDefaultWith(string oldText, string newText)
    {
        var text = DefaultText;
        var at = text.IndexOf(oldText, StringComparison.Ordinal);
        Assert.True(at >= 0 && text.IndexOf(oldText, at + 1, StringComparison.Ordinal) < 0, $"'{oldText}' must occur once in the default topology");
        return TopologyLoader.Parse(text.Replace(oldText, newText, StringComparison.Ordinal), "variant.yaml", TopologyFormat.Yaml);
    }

    /// <summary>
    /// Every value of the model, one per line, in model order: records holding lists compare by reference, so two
    /// loads of the same topology are compared through this text instead.
    /// </summary>
    public static string Canonical(TopologyModel model)
    {
        var text = new StringBuilder();
        void Line(string value) => text.Append(value).Append('\n');

        Line($"name {model.Name}");
        Line($"vpc {model.Vpc.Cidr} resolver {model.Vpc.Resolver}");
        Line($"internetGateway {model.InternetGateway?.Name ?? "(none)"}");
        foreach (var subnet in model.Subnets)
        {
            Line($"subnet {subnet.Name} {subnet.Cidr} routeTable={subnet.RouteTable} networkAcl={subnet.NetworkAcl ?? "(default)"}");
        }

        foreach (var table in model.RouteTables)
        {
            Line($"routeTable {table.Name}");
            foreach (var route in table.Routes)
            {
                Line($"  route {route.Destination} -> {route.Target}");
            }
        }

        foreach (var group in model.SecurityGroups)
        {
            Line($"securityGroup {group.Name} '{group.Description}'");
            foreach (var rule in group.Ingress)
            {
                Line($"  ingress {rule.Protocol} {rule.Ports} {rule.Peer} '{rule.Description}'");
            }

            if (group.Egress is null)
            {
                Line("  egress (default: all)");
            }

            foreach (var rule in group.Egress ?? [])
            {
                Line($"  egress {rule.Protocol} {rule.Ports} {rule.Peer} '{rule.Description}'");
            }
        }

        foreach (var acl in model.NetworkAcls)
        {
            Line($"networkAcl {acl.Name}");
            foreach (var rule in acl.Inbound)
            {
                Line($"  inbound {rule.Number.ToString(CultureInfo.InvariantCulture)} {rule.Protocol} {rule.Ports} {rule.Peer} {rule.Action}");
            }

            foreach (var rule in acl.Outbound)
            {
                Line($"  outbound {rule.Number.ToString(CultureInfo.InvariantCulture)} {rule.Protocol} {rule.Ports} {rule.Peer} {rule.Action}");
            }
        }

        foreach (var instance in model.Instances)
        {
            Line($"instance {instance.Name} {instance.Role} subnet={instance.Subnet} privateIp={instance.PrivateIp} elasticIp={instance.ElasticIp?.ToString() ?? "(none)"} "
                + $"securityGroups=[{string.Join(",", instance.SecurityGroups)}] sourceDestCheck={instance.SourceDestCheck}");
        }

        Line($"proxy {model.Proxy.Port.ToString(CultureInfo.InvariantCulture)} [{string.Join(",", model.Proxy.AllowedDomains)}]");
        Line($"internet {model.Internet.Cidr} elasticIpRange={model.Internet.ElasticIpRange}");
        foreach (var host in model.Internet.Hosts)
        {
            Line($"  host {host.Name} {host.Address} {host.Service} [{string.Join(",", host.Names)}]");
        }

        return text.ToString();
    }
}
