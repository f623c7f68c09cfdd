using System.Globalization;
using System.Net;

namespace EgressLab.Provisioner.Topology;

/// <summary>
/// The semantic rules of a topology: names unique and resolvable, ranges inside, outside or apart from each other as
/// AWS requires, addresses usable. Pure (no I/O) and on the model alone, so a model edited in memory (a route
/// added by <c>lab route add</c>) can be checked again; a <see cref="TopologySourceMap"/> adds file lines.
/// Every rule runs and every problem is reported.
/// </summary>
internal static class TopologyValidator
{
    public static IReadOnlyList<TopologyError> Validate(TopologyModel model) => Validate(model, null);

    public static IReadOnlyList<TopologyError> Validate(TopologyModel model, TopologySourceMap? map)
    {
        ArgumentNullException.ThrowIfNull(model);
        var run = new Run(model, map);
        run.CheckAll();
        return run.Errors;
    }

    private sealed class Run(TopologyModel model, TopologySourceMap? map)
    {
        // AWS allows VPC and subnet CIDR blocks from /16 to /28.
        private const int WidestPrefix = 16;
        private const int NarrowestPrefix = 28;

        public List<TopologyError> Errors { get; } = [];

        private IPNetwork Vpc => model.Vpc.Cidr;

        public void CheckAll()
        {
            if (string.IsNullOrWhiteSpace(model.Name))
            {
                Report(model, string.Empty, "name", "the topology's name is empty", "Set name to a short label, for example name: egress-lab.");
            }

            CheckVpc();
            CheckGateway();
            CheckSubnets();
            CheckRouteTables();
            CheckSecurityGroups();
            CheckNetworkAcls();
            CheckInstances();
            CheckNatGateways();
            CheckProxy();
            CheckInternet();
        }

        private void CheckVpc()
        {
            if (Vpc.PrefixLength is < WidestPrefix or > NarrowestPrefix)
            {
                Report(model.Vpc, "vpc", "cidr", $"the VPC range {Vpc} has a /{Text(Vpc.PrefixLength)} prefix; AWS allows /16 to /28", "Use a prefix from /16 to /28, for example 10.10.0.0/16.");
            }
        }

        private void CheckGateway()
        {
            if (model.InternetGateway is not { } gateway)
            {
                return;
            }

            if (string.IsNullOrWhiteSpace(gateway.Name))
            {
                Report(gateway, "internetGateway", "name", "the internet gateway's name is empty", "Name it, for example name: igw; routes use the name as their target.");
                return;
            }

            for (var i = 0; i < model.Instances.Count; i++)
            {
                if (model.Instances[i].Name == gateway.Name)
                {
                    Report(
                        gateway,
                        "internetGateway",
                        "name",
                        $"the internet gateway has the same name as {Describe(model.Instances[i], "instances", i)}, so a route to '{gateway.Name}' is ambiguous",
                        "Rename one of them.");
                }
            }
        }

        private void CheckSubnets()
        {
            UniqueNames(model.Subnets, "subnets", s => s.Name, "subnet");
            var tables = model.RouteTables.Select(t => t.Name).ToList();
            var acls = model.NetworkAcls.Select(a => a.Name).ToList();
            for (var i = 0; i < model.Subnets.Count; i++)
            {
                var subnet = model.Subnets[i];
                var path = Element("subnets", i, subnet.Name);
                if (subnet.Cidr.PrefixLength is < WidestPrefix or > NarrowestPrefix)
                {
                    Report(
                        subnet,
                        path,
                        "cidr",
                        $"the subnet range {subnet.Cidr} has a /{Text(subnet.Cidr.PrefixLength)} prefix; AWS allows /16 to /28",
                        "Use a prefix from /16 to /28, for example /24.");
                }

                if (!Ipv4.Contains(Vpc, subnet.Cidr))
                {
                    Report(subnet, path, "cidr", $"{subnet.Cidr} is outside the VPC {Vpc}", $"Choose a range inside the VPC, {Vpc}.");
                }
                else
                {
                    for (var j = 0; j < i; j++)
                    {
                        var other = model.Subnets[j];
                        if (Ipv4.Contains(Vpc, other.Cidr) && Ipv4.Overlaps(subnet.Cidr, other.Cidr))
                        {
                            Report(
                                subnet,
                                path,
                                "cidr",
                                $"{subnet.Cidr} overlaps {Describe(other, "subnets", j)} ({other.Cidr})",
                                "Give each subnet its own range; subnets of a VPC must not overlap.");
                        }
                    }
                }

                if (!tables.Contains(subnet.RouteTable) && !IsUnresolvable("routeTables", subnet.RouteTable, tables))
                {
                    Report(
                        subnet,
                        path,
                        "routeTable",
                        $"unknown route table '{subnet.RouteTable}' (route tables: {List(tables)})",
                        Suggest(subnet.RouteTable, tables, "Use one of the route tables, or add one with this name under routeTables."));
                }

                if (subnet.NetworkAcl is { } acl && !acls.Contains(acl) && !IsUnresolvable("networkAcls", acl, acls))
                {
                    Report(
                        subnet,
                        path,
                        "networkAcl",
                        $"unknown network ACL '{acl}' (network ACLs: {List(acls)})",
                        Suggest(acl, acls, "Use one of the network ACLs, add one with this name under networkAcls, or remove networkAcl for the default ACL, which allows everything."));
                }
            }
        }

        private void CheckRouteTables()
        {
            UniqueNames(model.RouteTables, "routeTables", t => t.Name, "route table");
            var instances = model.Instances.Select(i => i.Name).Concat(model.NatGateways.Select(g => g.Name)).ToList();
            var gateway = model.InternetGateway?.Name;
            var targets = gateway is null ? instances : [gateway, .. instances];
            for (var i = 0; i < model.RouteTables.Count; i++)
            {
                var table = model.RouteTables[i];
                var tablePath = Element("routeTables", i, table.Name);
                var destinations = new Dictionary<IPNetwork, int>();
                for (var j = 0; j < table.Routes.Count; j++)
                {
                    var route = table.Routes[j];
                    var path = $"{tablePath}.routes[{Text(j)}]";
                    if (Ipv4.Contains(Vpc, route.Destination))
                    {
                        Report(
                            route,
                            path,
                            "destination",
                            $"destination {route.Destination} is inside the VPC range {Vpc}, which the local route already covers",
                            "Remove the route; traffic within the VPC always takes the local route.");
                    }
                    else if (!destinations.TryAdd(route.Destination, j))
                    {
                        var first = destinations[route.Destination];
                        Report(
                            route,
                            path,
                            "destination",
                            $"destination {route.Destination} is already routed by {Locate(table.Routes[first], $"{tablePath}.routes[{Text(first)}]")}",
                            "Keep one route per destination in a table.");
                    }

                    CheckTarget(route, path, gateway, instances, targets);
                }
            }
        }

        private void CheckTarget(RouteSpec route, string path, string? gateway, List<string> instances, List<string> targets)
        {
            var target = route.Target;
            if (string.IsNullOrWhiteSpace(target))
            {
                Report(route, path, "target", "the route has no target", $"Set target to the internet gateway's or an instance's name ({List(targets)}).");
                return;
            }

            // A gateway that could not be read, or has no name, may be what the route means: it is reported already.
            if (target == gateway || instances.Contains(target) || IsUnresolvable("instances", target, instances) || IsUnresolvable("natGateways", target, instances)
                || map?.HasUnmapped("internetGateway") == true || (model.InternetGateway is not null && string.IsNullOrWhiteSpace(gateway)))
            {
                return;
            }

            if (gateway is null)
            {
                Report(
                    route,
                    path,
                    "target",
                    $"route to unknown target '{target}': the topology has no internet gateway, so the valid targets are the instances and NAT gateways ({List(targets)})",
                    Suggest(target, targets, $"Add internetGateway: {{ name: {target} }} to route to an internet gateway, or target an instance."));
                return;
            }

            Report(route, path, "target", $"route to unknown target '{target}' (valid targets: {List(targets)})", Suggest(target, targets, "Target the internet gateway, an instance or a NAT gateway by its name."));
        }

        private void CheckSecurityGroups()
        {
            UniqueNames(model.SecurityGroups, "securityGroups", g => g.Name, "security group");
            for (var i = 0; i < model.SecurityGroups.Count; i++)
            {
                var group = model.SecurityGroups[i];
                var path = Element("securityGroups", i, group.Name);
                for (var j = 0; j < group.Ingress.Count; j++)
                {
                    CheckPorts(group.Ingress[j], $"{path}.ingress[{Text(j)}]", group.Ingress[j].Protocol, group.Ingress[j].Ports);
                }

                for (var j = 0; j < (group.Egress?.Count ?? 0); j++)
                {
                    CheckPorts(group.Egress![j], $"{path}.egress[{Text(j)}]", group.Egress[j].Protocol, group.Egress[j].Ports);
                }
            }
        }

        private void CheckNetworkAcls()
        {
            UniqueNames(model.NetworkAcls, "networkAcls", a => a.Name, "network ACL");
            for (var i = 0; i < model.NetworkAcls.Count; i++)
            {
                var acl = model.NetworkAcls[i];
                var path = Element("networkAcls", i, acl.Name);
                CheckAclRules(acl.Inbound, $"{path}.inbound");
                CheckAclRules(acl.Outbound, $"{path}.outbound");
            }
        }

        private void CheckAclRules(IReadOnlyList<NetworkAclRule> rules, string listPath)
        {
            var numbers = new Dictionary<int, int>();
            for (var j = 0; j < rules.Count; j++)
            {
                var rule = rules[j];
                var path = $"{listPath}[{Text(j)}]";

                // AWS rule numbers run from 1 to 32766; 32767 is the implicit final deny.
                if (rule.Number is < 1 or > 32766)
                {
                    Report(rule, path, "number", $"rule number {Text(rule.Number)} is outside 1-32766", "Use a number from 1 to 32766; rules are evaluated lowest number first.");
                }
                else if (!numbers.TryAdd(rule.Number, j))
                {
                    var first = numbers[rule.Number];
                    Report(
                        rule,
                        path,
                        "number",
                        $"rule number {Text(rule.Number)} is already used by {Locate(rules[first], $"{listPath}[{Text(first)}]")}",
                        "Give each rule in this direction its own number.");
                }

                CheckPorts(rule, path, rule.Protocol, rule.Ports);
            }
        }

        private void CheckPorts(object rule, string path, TrafficProtocol protocol, PortRange ports)
        {
            if (protocol is TrafficProtocol.Icmp or TrafficProtocol.All)
            {
                if (!ports.IsAll)
                {
                    var name = protocol == TrafficProtocol.Icmp ? "icmp" : "all";
                    Report(rule, path, "ports", $"a protocol {name} rule has ports ({ports}); only tcp and udp rules have ports", "Remove ports, or make the rule tcp or udp.");
                }

                return;
            }

            if (ports.From is < 0 or > 65535 || ports.To is < 0 or > 65535)
            {
                Report(rule, path, "ports", $"port range {ports} is outside 0-65535", "Use port numbers from 0 to 65535.");
            }
            else if (ports.From > ports.To)
            {
                Report(rule, path, "ports", $"port range {ports} runs backwards", $"Write the lower port first: {Text(ports.To)}-{Text(ports.From)}.");
            }
        }

        private void CheckInstances()
        {
            UniqueNames(model.Instances, "instances", i => i.Name, "instance");
            var subnets = model.Subnets.Select(s => s.Name).ToList();
            var groups = model.SecurityGroups.Select(g => g.Name).ToList();
            var privateIps = new Dictionary<IPAddress, int>();
            var elasticIps = new Dictionary<IPAddress, int>();
            int? proxy = null;
            for (var i = 0; i < model.Instances.Count; i++)
            {
                var instance = model.Instances[i];
                var path = Element("instances", i, instance.Name);
                if (instance.Name.Length > 0 && !IsNamespaceName(instance.Name))
                {
                    Report(
                        instance,
                        path,
                        "name",
                        $"instance name '{instance.Name}' cannot be a network namespace name",
                        "Use 1 to 20 characters: a lower-case letter, then lower-case letters, digits or '-'.");
                }

                var subnet = model.Subnets.FirstOrDefault(s => s.Name == instance.Subnet);
                if (subnet is not null)
                {
                    CheckPrivateIp(instance, instance.PrivateIp, path, subnet);
                }
                else if (!IsUnresolvable("subnets", instance.Subnet, subnets))
                {
                    Report(
                        instance,
                        path,
                        "subnet",
                        $"host in unknown subnet '{instance.Subnet}' (subnets: {List(subnets)})",
                        Suggest(instance.Subnet, subnets, "Use one of the subnets, or add one with this name under subnets."));
                }

                if (!privateIps.TryAdd(instance.PrivateIp, i))
                {
                    var first = privateIps[instance.PrivateIp];
                    Report(
                        instance,
                        path,
                        "privateIp",
                        $"private address {instance.PrivateIp} is also used by {Describe(model.Instances[first], "instances", first)}",
                        "Give each instance its own private address.");
                }

                if (instance.ElasticIp is { } elasticIp)
                {
                    CheckElasticIp(instance, path, elasticIp);
                    if (!elasticIps.TryAdd(elasticIp, i))
                    {
                        var first = elasticIps[elasticIp];
                        Report(instance, path, "elasticIp", $"elastic IP {elasticIp} is also used by {Describe(model.Instances[first], "instances", first)}", "Give each instance its own elastic IP.");
                    }
                }

                CheckInstanceGroups(instance, path, groups);
                if (instance.Failover != NatFailover.None && instance.Role != InstanceRole.Nat)
                {
                    Report(instance, path, "failover", "failover applies to NAT instances only", "Remove failover, or give the instance role nat.");
                }

                if (instance.Role == InstanceRole.Proxy)
                {
                    if (proxy is { } first)
                    {
                        Report(
                            instance,
                            path,
                            "role",
                            $"a second instance with role proxy; {Describe(model.Instances[first], "instances", first)} already has it",
                            "Keep one proxy instance; give the others role client or nat.");
                    }
                    else
                    {
                        proxy = i;
                    }
                }
            }
        }

        private void CheckPrivateIp(object instance, IPAddress privateIp, string path, SubnetSpec subnet)
        {
            var cidr = subnet.Cidr;
            var first = Ipv4.First(cidr);
            var last = Ipv4.Last(cidr);
            if (!cidr.Contains(privateIp))
            {
                Report(instance, path, "privateIp", $"{privateIp} is outside its subnet '{subnet.Name}' ({cidr})", Usable(cidr, 4, 1, "Choose"));
                return;
            }

            // AWS reserves the first four addresses and the last one of every subnet.
            var value = Ipv4.ToUInt32(privateIp);
            var reserved = (value - first) switch
            {
                0 => "the network address",
                1 => "the VPC router",
                2 => "the DNS resolver",
                3 => "held by AWS for future use",
                _ when value == last => "the broadcast address",
                _ => null,
            };
            if (reserved is not null)
            {
                Report(
                    instance,
                    path,
                    "privateIp",
                    $"{privateIp} is reserved in subnet '{subnet.Name}' ({cidr}): {reserved}",
                    $"AWS reserves the first four and the last address of a subnet. {Usable(cidr, 4, 1, "Use")}");
            }
        }

        private void CheckElasticIp(object instance, string path, IPAddress elasticIp)
        {
            var range = model.Internet.ElasticIpRange;
            var first = Ipv4.First(range);
            var last = Ipv4.Last(range);
            if (!range.Contains(elasticIp))
            {
                Report(instance, path, "elasticIp", $"elastic IP {elasticIp} is outside internet.elasticIpRange {range}", $"Choose an address inside {range}.");
            }
            else if (Ipv4.ToUInt32(elasticIp) == first || Ipv4.ToUInt32(elasticIp) == last)
            {
                Report(
                    instance,
                    path,
                    "elasticIp",
                    $"elastic IP {elasticIp} is the {(Ipv4.ToUInt32(elasticIp) == first ? "network" : "broadcast")} address of internet.elasticIpRange {range}",
                    Usable(range, 1, 1, "Use"));
            }
        }

        private void CheckInstanceGroups(InstanceSpec instance, string path, List<string> groups)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var k = 0; k < instance.SecurityGroups.Count; k++)
            {
                var group = instance.SecurityGroups[k];
                var field = $"securityGroups[{Text(k)}]";
                if (!groups.Contains(group) && !IsUnresolvable("securityGroups", group, groups))
                {
                    Report(
                        instance,
                        path,
                        field,
                        $"unknown security group '{group}' (security groups: {List(groups)})",
                        Suggest(group, groups, "Use one of the security groups, or add one with this name under securityGroups."));
                }
                else if (!seen.Add(group))
                {
                    Report(instance, path, field, $"security group '{group}' is listed twice", "List each security group once.");
                }
            }
        }

        /// <summary>
        /// NAT gateways: named like a namespace and apart from the instances (a route names either), in a subnet whose
        /// route table reaches the Internet Gateway (a public NAT gateway sends everything there), with a usable private
        /// address and an Elastic IP that no instance or other gateway holds.
        /// </summary>
        private void CheckNatGateways()
        {
            UniqueNames(model.NatGateways, "natGateways", g => g.Name, "NAT gateway");
            var subnets = model.Subnets.Select(s => s.Name).ToList();
            var privateIps = model.Instances.Select(i => i.PrivateIp).ToHashSet();
            var elasticIps = model.Instances.Select(i => i.ElasticIp).OfType<IPAddress>().ToHashSet();
            for (var i = 0; i < model.NatGateways.Count; i++)
            {
                var gateway = model.NatGateways[i];
                var path = Element("natGateways", i, gateway.Name);
                if (gateway.Name.Length > 0 && !IsNamespaceName(gateway.Name))
                {
                    Report(gateway, path, "name", $"NAT gateway name '{gateway.Name}' cannot be a network namespace name", "Use 1 to 20 characters: a lower-case letter, then lower-case letters, digits or '-'.");
                }

                if (model.FindInstance(gateway.Name) is not null)
                {
                    Report(gateway, path, "name", $"NAT gateway name '{gateway.Name}' is also an instance's name, so a route to it would be ambiguous", "Give the NAT gateway a name no instance has, for example natgw.");
                }

                var subnet = model.Subnets.FirstOrDefault(s => s.Name == gateway.Subnet);
                if (subnet is null)
                {
                    if (!IsUnresolvable("subnets", gateway.Subnet, subnets))
                    {
                        Report(gateway, path, "subnet", $"NAT gateway in unknown subnet '{gateway.Subnet}' (subnets: {List(subnets)})", Suggest(gateway.Subnet, subnets, "Use one of the subnets."));
                    }
                }
                else
                {
                    CheckPrivateIp(gateway, gateway.PrivateIp, path, subnet);
                    var table = model.RouteTables.FirstOrDefault(t => t.Name == subnet.RouteTable);
                    var internetGateway = model.InternetGateway?.Name;
                    if (table is not null && !table.Routes.Any(r => r.Destination.PrefixLength == 0 && r.Target == internetGateway))
                    {
                        Report(
                            gateway,
                            path,
                            "subnet",
                            $"NAT gateway in subnet '{subnet.Name}', whose route table '{table.Name}' has no default route to the internet gateway: a public NAT gateway could not reach the internet",
                            "Put the NAT gateway in a public subnet (a route 0.0.0.0/0 to the internet gateway), as AWS requires.");
                    }
                }

                if (!privateIps.Add(gateway.PrivateIp))
                {
                    Report(gateway, path, "privateIp", $"private address {gateway.PrivateIp} is already used by an instance or another NAT gateway", "Give the NAT gateway its own private address.");
                }

                CheckElasticIp(gateway, path, gateway.ElasticIp);
                if (!elasticIps.Add(gateway.ElasticIp))
                {
                    Report(gateway, path, "elasticIp", $"elastic IP {gateway.ElasticIp} is already used by an instance or another NAT gateway", "Give the NAT gateway its own elastic IP.");
                }
            }
        }

        private void CheckProxy()
        {
            var proxy = model.Proxy;
            if (proxy.Port is < 1 or > 65535)
            {
                Report(proxy, "proxy", "port", $"proxy port {Text(proxy.Port)} is outside 1-65535", "Use a port from 1 to 65535; the default is 3128.");
            }

            for (var k = 0; k < proxy.AllowedDomains.Count; k++)
            {
                if (DnsName.Problem(proxy.AllowedDomains[k], allowLeadingDot: true) is { } problem)
                {
                    Report(proxy, "proxy", $"allowedDomains[{Text(k)}]", problem, "Write a lower-case DNS name such as www.example.com, or .example.com for a domain and all its subdomains.");
                }
            }
        }

        private void CheckInternet()
        {
            var internet = model.Internet;
            if (Ipv4.Overlaps(internet.Cidr, Vpc))
            {
                Report(internet, "internet", "cidr", $"the internet range {internet.Cidr} overlaps the VPC {Vpc}", "Choose a range outside the VPC, for example 198.51.100.0/24 (RFC 5737).");
            }

            if (Ipv4.Overlaps(internet.ElasticIpRange, Vpc))
            {
                Report(
                    internet,
                    "internet",
                    "elasticIpRange",
                    $"the elastic IP range {internet.ElasticIpRange} overlaps the VPC {Vpc}",
                    "Choose a range outside the VPC, for example 203.0.113.0/24 (RFC 5737).");
            }

            if (Ipv4.Overlaps(internet.ElasticIpRange, internet.Cidr))
            {
                Report(
                    internet,
                    "internet",
                    "elasticIpRange",
                    $"the elastic IP range {internet.ElasticIpRange} overlaps internet.cidr {internet.Cidr}",
                    "Use separate ranges, for example 198.51.100.0/24 for the internet and 203.0.113.0/24 for elastic IPs.");
            }

            UniqueNames(internet.Hosts, "internet.hosts", h => h.Name, "internet host");
            var addresses = new Dictionary<IPAddress, int>();
            var dnsNames = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < internet.Hosts.Count; i++)
            {
                var host = internet.Hosts[i];
                var path = Element("internet.hosts", i, host.Name);
                CheckHostAddress(host, path);
                if (!addresses.TryAdd(host.Address, i))
                {
                    var first = addresses[host.Address];
                    Report(host, path, "address", $"address {host.Address} is also used by {Describe(internet.Hosts[first], "internet.hosts", first)}", "Give each internet host its own address.");
                }

                for (var k = 0; k < host.Names.Count; k++)
                {
                    var name = host.Names[k];
                    var field = $"names[{Text(k)}]";
                    if (DnsName.Problem(name, allowLeadingDot: false) is { } problem)
                    {
                        Report(host, path, field, problem, "Write a lower-case DNS name such as www.lab.test.");
                    }
                    else if (!dnsNames.TryAdd(name, i))
                    {
                        var first = dnsNames[name];
                        var owner = first == i ? "this host already" : Describe(internet.Hosts[first], "internet.hosts", first);
                        Report(host, path, field, $"DNS name '{name}' is also given to {owner}", "Give each DNS name to one host, once.");
                    }
                }
            }

            if (!internet.Hosts.Any(h => h.Service == InternetService.CheckIp) && map?.HasUnmapped("internet.hosts") != true)
            {
                Report(internet, "internet", "hosts", "no internet host has service checkip", "Add a host with service: checkip; the lab uses it to show which address the internet sees.");
            }
        }

        private void CheckHostAddress(InternetHostSpec host, string path)
        {
            var cidr = model.Internet.Cidr;
            var first = Ipv4.First(cidr);
            var last = Ipv4.Last(cidr);
            if (!cidr.Contains(host.Address))
            {
                Report(host, path, "address", $"{host.Address} is outside internet.cidr {cidr}", Usable(cidr, 2, 1, "Choose"));
                return;
            }

            // The lab's internet router takes the range's first host address.
            var value = Ipv4.ToUInt32(host.Address);
            var reserved = value == first ? "the network address" : value == first + 1 ? "the lab's internet router's address" : value == last ? "the broadcast address" : null;
            if (reserved is not null)
            {
                Report(host, path, "address", $"{host.Address} is {reserved} in internet.cidr {cidr}", Usable(cidr, 2, 1, "Choose"));
            }
        }

        private void UniqueNames<T>(IReadOnlyList<T> items, string collection, Func<T, string> nameOf, string kind)
            where T : notnull
        {
            var firsts = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < items.Count; i++)
            {
                var name = nameOf(items[i]);
                var path = Element(collection, i, name);
                if (string.IsNullOrWhiteSpace(name))
                {
                    Report(items[i], path, "name", $"the {kind} has an empty name", $"Give the {kind} a name.");
                }
                else if (!firsts.TryAdd(name, i))
                {
                    var first = firsts[name];
                    Report(items[i], path, "name", $"{kind} name '{name}' is already used by {Describe(items[first], collection, first)}", $"Give each {kind} its own name.");
                }
            }
        }

        private static bool IsNamespaceName(string name) =>
            name.Length is >= 1 and <= 20 && char.IsAsciiLetterLower(name[0])
            && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

        /// <summary>
        /// True when a reference to <paramref name="name"/> may be to an item already reported as broken: one that
        /// could not be mapped, or one without a name. Reporting the reference too would name one mistake twice.
        /// </summary>
        private bool IsUnresolvable(string collection, string name, List<string> names) =>
            map?.IsUnmapped(collection, name) == true || names.Any(string.IsNullOrWhiteSpace);

        /// <summary>"{verb} an address from A to B." for the range less its reserved first and last addresses.</summary>
        private static string Usable(IPNetwork range, uint reservedAtStart, uint reservedAtEnd, string verb)
        {
            var first = (long)Ipv4.First(range) + reservedAtStart;
            var last = (long)Ipv4.Last(range) - reservedAtEnd;
            return first <= last
                ? $"{verb} an address from {Ipv4.FromUInt32((uint)first)} to {Ipv4.FromUInt32((uint)last)}."
                : $"{range} is too small to hold an address; use a wider range.";
        }

        private void Report(object owner, string fallbackPath, string? field, string message, string fix)
        {
            if (map is not null && map.TryLocate(owner, field, out var item, out var line))
            {
                Errors.Add(new TopologyError(model.Source, line, item, message, fix));
                return;
            }

            Errors.Add(new TopologyError(model.Source, null, TopologySourceMap.Join(fallbackPath, field), message, fix));
        }

        /// <summary>How the file names an item: its path from the source map, or one built from its place in the model.</summary>
        private string Locate(object owner, string fallbackPath) =>
            map is not null && map.TryLocate(owner, null, out var item, out _) ? item : fallbackPath;

        private string Describe<T>(T item, string collection, int index)
            where T : notnull =>
            Locate(item, Element(collection, index, NameOf(item)));

        private static string NameOf(object item) => item switch
        {
            SubnetSpec s => s.Name,
            InstanceSpec i => i.Name,
            NatGatewaySpec g => g.Name,
            RouteTableSpec t => t.Name,
            SecurityGroupSpec g => g.Name,
            NetworkAclSpec a => a.Name,
            InternetHostSpec h => h.Name,
            _ => string.Empty,
        };

        private static string Element(string collection, int index, string name) =>
            $"{collection}[{Text(index)}] '{name}'";

        private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

        private static string List(IEnumerable<string> names)
        {
            var text = string.Join(", ", names.Where(n => !string.IsNullOrWhiteSpace(n)));
            return text.Length == 0 ? "none" : text;
        }

        private static string Suggest(string name, IEnumerable<string> candidates, string otherwise) =>
            NameSuggestion.Closest(name, candidates) is { } closest ? $"Did you mean '{closest}'?" : otherwise;
    }
}
