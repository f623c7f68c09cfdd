using System.Globalization;
using System.Net;

namespace EgressLab.Provisioner.Topology;

/// <summary>
/// Maps the node tree to the model by hand, reporting every shape problem (unknown field, wrong type, missing
/// field, bad value) rather than the first. An item whose required value is unusable is left out of the model and
/// recorded in the <see cref="TopologySourceMap"/>, so the validator can still check the rest without reporting
/// references to it as unknown.
/// </summary>
internal sealed class TopologyMapper
{
    private static readonly string[] RootFields = ["name", "vpc", "internetGateway", "subnets", "routeTables", "securityGroups", "networkAcls", "instances", "natGateways", "proxy", "internet"];
    private static readonly string[] VpcFields = ["cidr"];
    private static readonly string[] GatewayFields = ["name"];
    private static readonly string[] SubnetFields = ["name", "cidr", "routeTable", "networkAcl"];
    private static readonly string[] RouteTableFields = ["name", "routes"];
    private static readonly string[] RouteFields = ["destination", "target"];
    private static readonly string[] SecurityGroupFields = ["name", "description", "ingress", "egress"];
    private static readonly string[] IngressFields = ["protocol", "ports", "source", "description"];
    private static readonly string[] EgressFields = ["protocol", "ports", "destination", "description"];
    private static readonly string[] NetworkAclFields = ["name", "inbound", "outbound"];
    private static readonly string[] InboundFields = ["number", "protocol", "ports", "source", "action"];
    private static readonly string[] OutboundFields = ["number", "protocol", "ports", "destination", "action"];
    private static readonly string[] InstanceFields = ["name", "role", "subnet", "privateIp", "elasticIp", "securityGroups", "sourceDestCheck", "failover"];
    private static readonly string[] NatGatewayFields = ["name", "subnet", "privateIp", "elasticIp"];
    private static readonly string[] ProxyFields = ["port", "allowedDomains"];
    private static readonly string[] InternetFields = ["cidr", "elasticIpRange", "hosts"];
    private static readonly string[] HostFields = ["name", "address", "service", "names"];

    // "-1" is how AWS writes "all protocols".
    private static readonly KeyValuePair<string, TrafficProtocol>[] Protocols =
        [new("tcp", TrafficProtocol.Tcp), new("udp", TrafficProtocol.Udp), new("icmp", TrafficProtocol.Icmp), new("all", TrafficProtocol.All), new("-1", TrafficProtocol.All)];

    private static readonly KeyValuePair<string, AclAction>[] Actions = [new("allow", AclAction.Allow), new("deny", AclAction.Deny)];

    private static readonly KeyValuePair<string, InstanceRole>[] Roles =
        [new("client", InstanceRole.Client), new("nat", InstanceRole.Nat), new("proxy", InstanceRole.Proxy)];

    private static readonly KeyValuePair<string, NatFailover>[] Failovers = [new("none", NatFailover.None), new("asg-eni", NatFailover.AsgEni)];

    private static readonly KeyValuePair<string, InternetService>[] Services = [new("checkip", InternetService.CheckIp), new("web", InternetService.Web)];

    private static readonly IPNetwork Anywhere = new(IPAddress.Any, 0);

    private readonly string source;
    private readonly List<TopologyError> errors;
    private readonly TopologySourceMap map = new();

    private TopologyMapper(string source, List<TopologyError> errors)
    {
        this.source = source;
        this.errors = errors;
    }

    /// <summary>Maps <paramref name="root"/>; returns null when a required top-level part is missing or unusable.</summary>
    public static TopologyModel? Map(TopologyNode root, string source, List<TopologyError> errors, out TopologySourceMap map)
    {
        var mapper = new TopologyMapper(source, errors);
        map = mapper.map;
        return mapper.MapRoot(root);
    }

    private TopologyModel? MapRoot(TopologyNode root)
    {
        if (root is not TopologyMapping mapping)
        {
            Error(
                root.Line,
                "document",
                $"expected a mapping of topology fields, found {Describe(root)}",
                "Write the topology's fields at the top level: name, vpc, subnets, routeTables, instances and internet.");
            return null;
        }

        var f = new FieldReader(this, mapping, string.Empty, RootFields, named: false);
        var name = f.String("name", required: true, "egress-lab");
        var vpc = f.Object("vpc", required: true, "{ cidr: 10.10.0.0/16 }", VpcFields, MapVpc);
        var gateway = f.Object("internetGateway", required: false, "{ name: igw }", GatewayFields, MapGateway);
        var subnets = f.List("subnets", required: true, "[{ name: public, cidr: 10.10.1.0/24, routeTable: public }]", SubnetFields, named: true, MapSubnet);
        var routeTables = f.List("routeTables", required: true, "[{ name: public, routes: [{ destination: 0.0.0.0/0, target: igw }] }]", RouteTableFields, named: true, MapRouteTable);
        var groups = f.List("securityGroups", required: false, "[{ name: web, ingress: [{ protocol: tcp, ports: \"443\", source: 0.0.0.0/0 }] }]", SecurityGroupFields, named: true, MapSecurityGroup);
        var acls = f.List(
            "networkAcls",
            required: false,
            "[{ name: private, inbound: [{ number: 100, protocol: all, source: 0.0.0.0/0, action: allow }] }]",
            NetworkAclFields,
            named: true,
            MapNetworkAcl);
        var instances = f.List("instances", required: true, "[{ name: nat, role: nat, subnet: public, privateIp: 10.10.1.100 }]", InstanceFields, named: true, MapInstance);
        var natGateways = f.List(
            "natGateways",
            required: false,
            "[{ name: natgw, subnet: public, privateIp: 10.10.1.50, elasticIp: 203.0.113.20 }]",
            NatGatewayFields,
            named: true,
            MapNatGateway);
        var proxy = f.Object("proxy", required: false, "{ port: 3128, allowedDomains: [www.example.com] }", ProxyFields, MapProxy);
        var internet = f.Object(
            "internet",
            required: true,
            "{ cidr: 198.51.100.0/24, elasticIpRange: 203.0.113.0/24, hosts: [{ name: checkip, address: 198.51.100.10, service: checkip }] }",
            InternetFields,
            MapInternet);
        if (name is null || vpc is null || subnets is null || routeTables is null || instances is null || internet is null)
        {
            return null;
        }

        var model = new TopologyModel
        {
            Name = name,
            Vpc = vpc,
            InternetGateway = gateway,
            Subnets = subnets,
            RouteTables = routeTables,
            SecurityGroups = groups ?? [],
            NetworkAcls = acls ?? [],
            Instances = instances,
            NatGateways = natGateways ?? [],
            Proxy = proxy ?? new ProxySpec(),
            Internet = internet,
            Source = source,
        };
        map.Add(model, string.Empty, mapping.Line, f.Lines);
        return model;
    }

    private static VpcSpec? MapVpc(FieldReader f) =>
        f.Cidr("cidr", required: true, "10.10.0.0/16") is { } cidr ? new VpcSpec(cidr) : null;

    private static InternetGatewaySpec? MapGateway(FieldReader f) =>
        f.String("name", required: true, "igw") is { } name ? new InternetGatewaySpec(name) : null;

    private static SubnetSpec? MapSubnet(FieldReader f)
    {
        var name = f.String("name", required: true, "private");
        var cidr = f.Cidr("cidr", required: true, "10.10.2.0/24");
        var routeTable = f.String("routeTable", required: true, "private");
        var networkAcl = f.String("networkAcl", required: false, "private");
        return name is null || cidr is null || routeTable is null ? null : new SubnetSpec(name, cidr.Value, routeTable, networkAcl);
    }

    private static RouteTableSpec? MapRouteTable(FieldReader f)
    {
        var name = f.String("name", required: true, "private");
        var routes = f.List("routes", required: false, "[{ destination: 0.0.0.0/0, target: nat }]", RouteFields, named: false, MapRoute);
        return name is null ? null : new RouteTableSpec(name, routes ?? []);
    }

    private static RouteSpec? MapRoute(FieldReader f)
    {
        var destination = f.Cidr("destination", required: true, "0.0.0.0/0");
        var target = f.String("target", required: true, "igw");
        return destination is null || target is null ? null : new RouteSpec(destination.Value, target);
    }

    private static SecurityGroupSpec? MapSecurityGroup(FieldReader f)
    {
        var name = f.String("name", required: true, "web");
        var description = f.String("description", required: false, "web servers");
        var ingress = f.List("ingress", required: false, "[{ protocol: tcp, ports: \"443\", source: 0.0.0.0/0 }]", IngressFields, named: false, r => MapRule(r, "source"));
        var egress = f.List("egress", required: false, "[{ protocol: all, destination: 0.0.0.0/0 }]", EgressFields, named: false, r => MapRule(r, "destination"));

        // CloudFormation requires a group description; the name is the natural stand-in when none is written.
        return name is null ? null : new SecurityGroupSpec(name, description ?? name, ingress ?? [], egress);
    }

    private static SecurityGroupRule? MapRule(FieldReader f, string peerField)
    {
        var protocol = f.Enum("protocol", required: true, "tcp", Protocols);
        var ports = f.Ports("ports");
        var peer = f.Cidr(peerField, required: true, "0.0.0.0/0");
        var description = f.String("description", required: false, "SSH from the VPC");
        return protocol is null || peer is null ? null : new SecurityGroupRule(protocol.Value, ports, peer.Value, description);
    }

    private static NetworkAclSpec? MapNetworkAcl(FieldReader f)
    {
        var name = f.String("name", required: true, "private");
        var inbound = f.List("inbound", required: false, "[{ number: 100, protocol: all, source: 0.0.0.0/0, action: allow }]", InboundFields, named: false, r => MapAclRule(r, "source"));
        var outbound = f.List("outbound", required: false, "[{ number: 100, protocol: all, destination: 0.0.0.0/0, action: allow }]", OutboundFields, named: false, r => MapAclRule(r, "destination"));
        return name is null ? null : new NetworkAclSpec(name, inbound ?? [], outbound ?? []);
    }

    private static NetworkAclRule? MapAclRule(FieldReader f, string peerField)
    {
        var number = f.Integer("number", required: true, "100");
        var protocol = f.Enum("protocol", required: true, "tcp", Protocols);
        var ports = f.Ports("ports");

        // Unlike a security group rule, an ACL rule without a peer is common shorthand for "anywhere".
        var peer = f.Cidr(peerField, required: false, "0.0.0.0/0") ?? Anywhere;
        var action = f.Enum("action", required: true, "allow", Actions);
        return number is null || protocol is null || action is null ? null : new NetworkAclRule(number.Value, protocol.Value, ports, peer, action.Value);
    }

    private static InstanceSpec? MapInstance(FieldReader f)
    {
        var name = f.String("name", required: true, "private-1");
        var role = f.Enum("role", required: false, "client", Roles);
        var subnet = f.String("subnet", required: true, "private");
        var privateIp = f.Address("privateIp", required: true, "10.10.2.101");
        var elasticIp = f.Address("elasticIp", required: false, "203.0.113.11");
        var groups = f.Strings("securityGroups", "[private-host]");
        var sourceDestCheck = f.Boolean("sourceDestCheck", required: false, "true");
        var failover = f.Enum("failover", required: false, "asg-eni", Failovers);
        if (name is null || subnet is null || privateIp is null)
        {
            return null;
        }

        return new InstanceSpec
        {
            Name = name,
            Role = role ?? InstanceRole.Client,
            Subnet = subnet,
            PrivateIp = privateIp,
            ElasticIp = elasticIp,
            SecurityGroups = groups ?? [],
            SourceDestCheck = sourceDestCheck ?? true,
            Failover = failover ?? NatFailover.None,
        };
    }

    private static NatGatewaySpec? MapNatGateway(FieldReader f)
    {
        var name = f.String("name", required: true, "natgw");
        var subnet = f.String("subnet", required: true, "public");
        var privateIp = f.Address("privateIp", required: true, "10.10.1.50");

        // A public NAT gateway always has an Elastic IP: without one it cannot be created.
        var elasticIp = f.Address("elasticIp", required: true, "203.0.113.20");
        return name is null || subnet is null || privateIp is null || elasticIp is null ? null : new NatGatewaySpec(name, subnet, privateIp, elasticIp);
    }

    private static ProxySpec? MapProxy(FieldReader f)
    {
        var defaults = new ProxySpec();
        var port = f.Integer("port", required: false, "3128");
        var domains = f.Strings("allowedDomains", "[www.example.com, .example.org]");
        return new ProxySpec { Port = port ?? defaults.Port, AllowedDomains = domains ?? defaults.AllowedDomains };
    }

    private static InternetSpec? MapInternet(FieldReader f)
    {
        var cidr = f.Cidr("cidr", required: true, "198.51.100.0/24");
        var elasticIpRange = f.Cidr("elasticIpRange", required: true, "203.0.113.0/24");
        var hosts = f.List("hosts", required: true, "[{ name: checkip, address: 198.51.100.10, service: checkip, names: [checkip.lab.test] }]", HostFields, named: true, MapHost);
        return cidr is null || elasticIpRange is null || hosts is null ? null : new InternetSpec(cidr.Value, elasticIpRange.Value, hosts);
    }

    private static InternetHostSpec? MapHost(FieldReader f)
    {
        var name = f.String("name", required: true, "checkip");
        var address = f.Address("address", required: true, "198.51.100.10");
        var service = f.Enum("service", required: true, "checkip", Services);
        var names = f.Strings("names", "[checkip.lab.test]");
        return name is null || address is null || service is null ? null : new InternetHostSpec(name, address, service.Value, names ?? []);
    }

    private void Error(int line, string item, string message, string fix) => errors.Add(new TopologyError(source, line, item, message, fix));

    private static string Describe(TopologyNode node) => node switch
    {
        TopologyMapping => "a mapping",
        TopologySequence => "a list",
        TopologyScalar { Kind: ScalarKind.String } s => $"the string '{s.Text}'",
        TopologyScalar { Kind: ScalarKind.Number } s => $"the number {s.Text}",
        TopologyScalar { Kind: ScalarKind.Boolean } s => $"the boolean {s.Text}",
        _ => "nothing",
    };

    /// <summary>Reads the fields of one mapping, reporting unknown and duplicate fields as it is made.</summary>
    private sealed class FieldReader
    {
        private readonly TopologyMapper mapper;
        private readonly TopologyMapping node;
        private readonly Dictionary<string, TopologyField> fields = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> lines = new(StringComparer.Ordinal);

        // Known fields that an unknown one was taken to be a typo of: "did you mean 'cidr'?" already says 'cidr' is missing.
        private readonly HashSet<string> suggested = new(StringComparer.Ordinal);

        public FieldReader(TopologyMapper mapper, TopologyMapping node, string path, IReadOnlyList<string> known, bool named)
        {
            this.mapper = mapper;
            this.node = node;
            foreach (var field in node.Fields)
            {
                if (fields.TryAdd(field.Name, field))
                {
                    lines[field.Name] = field.Line;
                }
            }

            // Items of a named list are labelled with their name, as people search for it: subnets[1] 'private'.
            if (named && fields.TryGetValue("name", out var nameField) && nameField.Value is TopologyScalar { Kind: ScalarKind.String or ScalarKind.Number } label)
            {
                Name = label.Text;
                path = $"{path} '{label.Text}'";
            }

            Path = path;
            var absent = known.Where(k => !fields.ContainsKey(k)).ToList();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var field in node.Fields)
            {
                if (!seen.Add(field.Name))
                {
                    mapper.Error(field.Line, Item(field.Name), $"field '{field.Name}' appears more than once", "Keep one of them; only the first is used.");
                }
                else if (!known.Contains(field.Name))
                {
                    mapper.Error(field.Line, Item(field.Name), $"unknown field '{field.Name}' (known fields: {string.Join(", ", known)})", UnknownFieldFix(field.Name, known, absent, suggested));
                }
            }
        }

        public string Path { get; }

        public string? Name { get; }

        public IReadOnlyDictionary<string, int> Lines => lines;

        public string? String(string field, bool required, string example)
        {
            var value = Find(field, required, example);
            if (value is TopologyScalar { Kind: ScalarKind.String or ScalarKind.Number } scalar)
            {
                return scalar.Text;
            }

            WrongType(field, value, "a string", example);
            return null;
        }

        public int? Integer(string field, bool required, string example)
        {
            var value = Find(field, required, example);
            if (value is TopologyScalar { Kind: ScalarKind.Number } scalar
                && int.TryParse(scalar.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                return number;
            }

            WrongType(field, value, "a whole number", example);
            return null;
        }

        public bool? Boolean(string field, bool required, string example)
        {
            var value = Find(field, required, example);
            if (value is TopologyScalar { Kind: ScalarKind.Boolean } scalar)
            {
                return scalar.Text.Equals("true", StringComparison.OrdinalIgnoreCase);
            }

            WrongType(field, value, "true or false", example);
            return null;
        }

        public IPNetwork? Cidr(string field, bool required, string example)
        {
            var value = Find(field, required, example);
            if (value is not TopologyScalar { Kind: ScalarKind.String } scalar)
            {
                WrongType(field, value, "a CIDR block", example);
                return null;
            }

            if (!Ipv4.TryParseCidr(scalar.Text, out var network, out var problem, out var fix))
            {
                mapper.Error(scalar.Line, Item(field), problem, $"{fix}, for example {field}: {example}.");
                return null;
            }

            // Host bits set: reported, and the network meant is kept so the checks that follow still run.
            if (problem.Length > 0)
            {
                mapper.Error(scalar.Line, Item(field), problem, fix);
            }

            return network;
        }

        public IPAddress? Address(string field, bool required, string example)
        {
            var value = Find(field, required, example);
            if (value is not TopologyScalar { Kind: ScalarKind.String or ScalarKind.Number } scalar)
            {
                WrongType(field, value, "an IPv4 address", example);
                return null;
            }

            if (!Ipv4.TryParseAddress(scalar.Text, out var address, out var problem))
            {
                mapper.Error(scalar.Line, Item(field), problem, $"Write four numbers 0-255 separated by dots, for example {field}: {example}.");
                return null;
            }

            return address;
        }

        public T? Enum<T>(string field, bool required, string example, KeyValuePair<string, T>[] allowed)
            where T : struct, Enum
        {
            var value = Find(field, required, example);
            if (value is not TopologyScalar { Kind: ScalarKind.String or ScalarKind.Number } scalar)
            {
                WrongType(field, value, $"a single value ({string.Join(", ", allowed.Select(a => a.Key))})", example);
                return null;
            }

            foreach (var (text, member) in allowed)
            {
                if (string.Equals(text, scalar.Text, StringComparison.Ordinal))
                {
                    return member;
                }
            }

            var names = allowed.Select(a => a.Key).ToArray();
            var closest = NameSuggestion.Closest(scalar.Text, names);
            mapper.Error(
                scalar.Line,
                Item(field),
                $"unknown {field} '{scalar.Text}' (allowed: {string.Join(", ", names)})",
                closest is null ? $"Use one of the allowed values, for example {field}: {example}." : $"Did you mean '{closest}'?");
            return null;
        }

        /// <summary>Reads "22", "1024-65535", "all" or a bare number; absent means all ports. Range limits are the validator's.</summary>
        public PortRange Ports(string field)
        {
            const string Fix = "Write one port (\"22\"), a range (\"1024-65535\") or \"all\"; use one rule per port or range";
            var value = Find(field, required: false, "\"443\"");
            if (value is null)
            {
                return PortRange.All;
            }

            if (value is not TopologyScalar { Kind: ScalarKind.String or ScalarKind.Number } scalar)
            {
                mapper.Error(value.Line, Item(field), $"expected a port or port range, found {Describe(value)}", Fix + ".");
                return PortRange.All;
            }

            var text = scalar.Text;
            if (text == "all")
            {
                return PortRange.All;
            }

            var dash = text.IndexOf('-', StringComparison.Ordinal);
            var fromText = dash < 0 ? text : text[..dash];
            var toText = dash < 0 ? text : text[(dash + 1)..];
            if (TryParsePort(fromText, out var from) && TryParsePort(toText, out var to))
            {
                return new PortRange(from, to);
            }

            mapper.Error(scalar.Line, Item(field), $"'{text}' is not a port or port range", Fix + ".");
            return PortRange.All;
        }

        public List<string>? Strings(string field, string example)
        {
            var value = Find(field, required: false, example);
            if (value is null)
            {
                return null;
            }

            if (value is not TopologySequence sequence)
            {
                WrongType(field, value, "a list", example);
                return null;
            }

            var result = new List<string>(sequence.Items.Count);
            for (var i = 0; i < sequence.Items.Count; i++)
            {
                var item = sequence.Items[i];
                var key = $"{field}[{i.ToString(CultureInfo.InvariantCulture)}]";
                lines[key] = item.Line;
                if (item is TopologyScalar { Kind: ScalarKind.String or ScalarKind.Number } scalar)
                {
                    result.Add(scalar.Text);
                }
                else
                {
                    mapper.Error(item.Line, Item(key), $"expected a string, found {Describe(item)}", $"Write {field} as a list of names, for example {field}: {example}.");
                }
            }

            return result;
        }

        public T? Object<T>(string field, bool required, string example, IReadOnlyList<string> known, Func<FieldReader, T?> read)
            where T : class
        {
            var value = Find(field, required, example);
            if (value is null)
            {
                return null;
            }

            var path = Item(field);
            if (value is not TopologyMapping mapping)
            {
                WrongType(field, value, "a mapping", example);
                mapper.map.AddUnmapped(path, null);
                return null;
            }

            var reader = new FieldReader(mapper, mapping, path, known, named: false);
            var result = read(reader);
            if (result is null)
            {
                mapper.map.AddUnmapped(path, null);
                return null;
            }

            mapper.map.Add(result, reader.Path, mapping.Line, reader.Lines);
            return result;
        }

        /// <summary>Reads a list of mappings; items that cannot be mapped are left out, and recorded as unmapped.</summary>
        public List<T>? List<T>(string field, bool required, string example, IReadOnlyList<string> known, bool named, Func<FieldReader, T?> read)
            where T : class
        {
            var value = Find(field, required, example);
            if (value is null)
            {
                return null;
            }

            var collection = Item(field);
            if (value is not TopologySequence sequence)
            {
                WrongType(field, value, "a list", example);
                mapper.map.AddUnmapped(collection, null);
                return null;
            }

            var itemExample = example.StartsWith('[') && example.EndsWith(']') ? example[1..^1] : example;
            var result = new List<T>(sequence.Items.Count);
            for (var i = 0; i < sequence.Items.Count; i++)
            {
                var item = sequence.Items[i];
                var index = i.ToString(CultureInfo.InvariantCulture);
                lines[$"{field}[{index}]"] = item.Line;
                var path = $"{collection}[{index}]";
                if (item is not TopologyMapping mapping)
                {
                    mapper.Error(item.Line, path, $"expected a mapping, found {Describe(item)}", $"Write each entry of {field} as a mapping, for example {itemExample}.");
                    mapper.map.AddUnmapped(collection, null);
                    continue;
                }

                var reader = new FieldReader(mapper, mapping, path, known, named);
                var mapped = read(reader);
                if (mapped is null)
                {
                    mapper.map.AddUnmapped(collection, reader.Name);
                    continue;
                }

                mapper.map.Add(mapped, reader.Path, mapping.Line, reader.Lines);
                result.Add(mapped);
            }

            return result;
        }

        // An empty key (a line starting with ':') still needs a visible name in the message.
        private string Item(string field) => TopologySourceMap.Join(Path, field.Length == 0 ? "''" : field);

        /// <summary>The field's value; null when it is absent or null, which is an error only when it is required.</summary>
        private TopologyNode? Find(string field, bool required, string example)
        {
            var present = fields.TryGetValue(field, out var found);
            if (present && found!.Value is not TopologyScalar { Kind: ScalarKind.Null })
            {
                return found.Value;
            }

            if (required && !suggested.Contains(field))
            {
                mapper.Error(
                    present ? found!.Line : node.Line,
                    Item(field),
                    present ? $"required field '{field}' is empty" : $"missing required field '{field}'",
                    $"Add it, for example {field}: {example}.");
            }

            return null;
        }

        private void WrongType(string field, TopologyNode? value, string expected, string example)
        {
            if (value is not null)
            {
                mapper.Error(value.Line, Item(field), $"expected {expected}, found {Describe(value)}", $"Write {field} as {expected}, for example {field}: {example}.");
            }
        }

        /// <param name="absent">The known fields not written: a typo is one of these, not a second copy of a field already there.</param>
        private static string UnknownFieldFix(string name, IReadOnlyList<string> known, List<string> absent, HashSet<string> suggested)
        {
            // Rules name their peer by direction; the other direction's word is the likeliest slip.
            if (name == "source" && absent.Contains("destination"))
            {
                suggested.Add("destination");
                return "Outbound rules name their peer with 'destination'.";
            }

            if (name == "destination" && absent.Contains("source"))
            {
                suggested.Add("source");
                return "Inbound rules name their peer with 'source'.";
            }

            if (NameSuggestion.Closest(name, absent) is { } closest)
            {
                suggested.Add(closest);
                return $"Did you mean '{closest}'?";
            }

            return "Remove it, or rename it to one of the known fields (names are case-sensitive).";
        }

        private static bool TryParsePort(string text, out int port)
        {
            port = 0;
            return text.Length is > 0 and <= 9 && text.All(char.IsAsciiDigit)
                && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port);
        }
    }
}
