using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// What a schema cannot say about a VPC template, checked on one variant: subnets inside their VPC and apart, one
/// route table per subnet, one target per route, gateway routes ordered after the attachment, forwarding instances
/// with the source/destination check off, valid CIDRs and ports, and private addresses inside their subnet and unique.
/// Values that are intrinsic functions are known only at deploy time and are left alone.
/// </summary>
internal sealed class NetworkChecks
{
    private static readonly string[] RouteTargets =
    [
        "CarrierGatewayId", "CoreNetworkArn", "EgressOnlyInternetGatewayId", "GatewayId", "InstanceId", "LocalGatewayId",
        "NatGatewayId", "NetworkInterfaceId", "TransitGatewayId", "VpcEndpointId", "VpcPeeringConnectionId",
    ];

    private readonly TemplateVariant _variant;
    private readonly List<TemplateFinding> _findings;
    private readonly Dictionary<string, IPNetwork> _subnetRanges = new(StringComparer.Ordinal);
    private readonly HashSet<string> _forwardersReported = new(StringComparer.Ordinal);

    private NetworkChecks(TemplateVariant variant, List<TemplateFinding> findings)
    {
        _variant = variant;
        _findings = findings;
    }

    public static void Check(TemplateVariant variant, List<TemplateFinding> findings)
    {
        var checks = new NetworkChecks(variant, findings);
        checks.CheckVpcsAndSubnets();
        checks.CheckRouteTableAssociations();
        checks.CheckRoutes();
        checks.CheckForwarders();
        checks.CheckSecurityGroups();
        checks.CheckNetworkAcls();
        checks.CheckLoadBalancing();
        checks.CheckPrivateAddresses();
    }

    private IEnumerable<(string Id, JsonObject Properties)> OfType(string type) =>
        _variant.Resources
            .Where(r => r.Value["Type"]?.ToString() == type)
            .Select(r => (r.Key, r.Value["Properties"] as JsonObject ?? []));

    private void CheckVpcsAndSubnets()
    {
        var vpcRanges = new Dictionary<string, IPNetwork>(StringComparer.Ordinal);
        foreach (var (id, properties) in OfType("AWS::EC2::VPC"))
        {
            if (Network(id, "Properties.CidrBlock", properties["CidrBlock"]) is { } range)
            {
                vpcRanges[id] = range;
                if (range.PrefixLength is < 16 or > 28)
                {
                    Add(id, "Properties.CidrBlock", $"{range} is a /{Int(range.PrefixLength)}; a VPC's IPv4 range is between /16 and /28", "Choose a prefix length from 16 to 28.");
                }
            }
        }

        var subnets = new List<(string Id, string? Vpc, IPNetwork Range)>();
        foreach (var (id, properties) in OfType("AWS::EC2::Subnet"))
        {
            if (Network(id, "Properties.CidrBlock", properties["CidrBlock"]) is not { } range)
            {
                continue;
            }

            _subnetRanges[id] = range;
            var vpc = RefName(properties["VpcId"]);
            subnets.Add((id, vpc, range));
            if (vpc is not null && vpcRanges.TryGetValue(vpc, out var vpcRange) && !Ipv4.Contains(vpcRange, range))
            {
                Add(id, "Properties.CidrBlock", $"{range} is not inside the VPC's range {vpcRange}", $"Choose a range within {vpcRange}.");
            }

            if (range.PrefixLength is < 16 or > 28)
            {
                Add(id, "Properties.CidrBlock", $"{range} is a /{Int(range.PrefixLength)}; a subnet's IPv4 range is between /16 and /28", "Choose a prefix length from 16 to 28.");
            }
        }

        for (var i = 0; i < subnets.Count; i++)
        {
            for (var j = i + 1; j < subnets.Count; j++)
            {
                if (subnets[i].Vpc == subnets[j].Vpc && Ipv4.Overlaps(subnets[i].Range, subnets[j].Range))
                {
                    Add(subnets[j].Id, "Properties.CidrBlock", $"{subnets[j].Range} overlaps subnet {subnets[i].Id} ({subnets[i].Range})", "Give each subnet its own part of the VPC's range.");
                }
            }
        }
    }

    private void CheckRouteTableAssociations()
    {
        var associations = OfType("AWS::EC2::SubnetRouteTableAssociation")
            .Select(a => (a.Id, Subnet: RefName(a.Properties["SubnetId"])))
            .Where(a => a.Subnet is not null)
            .GroupBy(a => a.Subnet!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(a => a.Id).ToList(), StringComparer.Ordinal);
        foreach (var (subnet, _) in OfType("AWS::EC2::Subnet"))
        {
            if (!associations.TryGetValue(subnet, out var ids))
            {
                Add(subnet, "", "has no route table association, so it would use the VPC's main route table, which the template does not manage", "Add an AWS::EC2::SubnetRouteTableAssociation for it.");
            }
            else if (ids.Count > 1)
            {
                Add(ids[1], "Properties.SubnetId", $"associates {subnet} with a second route table (also {ids[0]}); a subnet has exactly one", "Keep one association per subnet.");
            }
        }
    }

    private void CheckRoutes()
    {
        var attachments = OfType("AWS::EC2::VPCGatewayAttachment")
            .Where(a => RefName(a.Properties["InternetGatewayId"]) is not null)
            .ToDictionary(a => a.Id, a => RefName(a.Properties["InternetGatewayId"])!, StringComparer.Ordinal);
        var seen = new Dictionary<(string Table, string Destination), string>();
        foreach (var (id, properties) in OfType("AWS::EC2::Route"))
        {
            var targets = RouteTargets.Where(properties.ContainsKey).ToList();
            if (targets.Count != 1)
            {
                Add(id, "Properties", targets.Count == 0
                    ? "has no target"
                    : $"has {Int(targets.Count)} targets ({string.Join(", ", targets)}); a route has exactly one", "Give it one of GatewayId, InstanceId, NetworkInterfaceId, NatGatewayId and the other target properties.");
            }

            if (properties["DestinationCidrBlock"] is { } destination && Network(id, "Properties.DestinationCidrBlock", destination) is { } range
                && RefName(properties["RouteTableId"]) is { } table)
            {
                if (seen.TryGetValue((table, range.ToString()), out var other))
                {
                    Add(id, "Properties.DestinationCidrBlock", $"{table} already has a route to {range} ({other})", "Keep one route per destination in a route table.");
                }
                else
                {
                    seen[(table, range.ToString())] = id;
                }
            }

            if (RefName(properties["GatewayId"]) is { } gateway && Type(gateway) == "AWS::EC2::InternetGateway")
            {
                var attachment = attachments.FirstOrDefault(a => a.Value == gateway).Key;
                if (attachment is null)
                {
                    Add(id, "Properties.GatewayId", $"routes to {gateway}, which no AWS::EC2::VPCGatewayAttachment attaches to a VPC", "Attach the gateway to the VPC.");
                }
                else if (!DependsOn(id).Contains(attachment))
                {
                    Add(id, "DependsOn", $"routes to {gateway} but does not depend on its attachment {attachment}, so CloudFormation may create the route first and fail", $"Add DependsOn: {attachment}.");
                }
            }
        }
    }

    /// <summary>An instance that forwards other hosts' traffic (a route's target, or tagged as the NAT instance) must have the check off.</summary>
    private void CheckForwarders()
    {
        foreach (var (id, properties) in OfType("AWS::EC2::Route"))
        {
            if (RefName(properties["InstanceId"]) is { } instance && Type(instance) == "AWS::EC2::Instance")
            {
                RequireForwarding(instance, $"is the target of route {id}");
            }

            if (RefName(properties["NetworkInterfaceId"]) is { } eni && Type(eni) == "AWS::EC2::NetworkInterface" && IsOn(Properties(eni)["SourceDestCheck"])
                && _forwardersReported.Add(eni))
            {
                Add(eni, "Properties.SourceDestCheck", $"is the target of route {id} but its source/destination check is on, so it drops the traffic it should forward", "Set SourceDestCheck: false.");
            }
        }

        foreach (var (id, properties) in OfType("AWS::EC2::Instance"))
        {
            if (properties["Tags"] is JsonArray tags && tags.Any(t => t?["Key"]?.ToString() == TemplateRenderer.RoleTag && t["Value"]?.ToString() == "nat"))
            {
                RequireForwarding(id, "is the NAT instance");
            }
        }
    }

    private void RequireForwarding(string instance, string why)
    {
        var properties = Properties(instance);
        if (properties.ContainsKey("SourceDestCheck"))
        {
            if (IsOn(properties["SourceDestCheck"]) && _forwardersReported.Add(instance))
            {
                Add(instance, "Properties.SourceDestCheck", $"{why} but its source/destination check is on, so it drops the traffic it should forward", "Set SourceDestCheck: false.");
            }

            return;
        }

        var primary = (properties["NetworkInterfaces"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .FirstOrDefault(n => n["DeviceIndex"]?.ToString() == "0");
        if (primary is not null && RefName(primary["NetworkInterfaceId"]) is { } eni && Type(eni) == "AWS::EC2::NetworkInterface")
        {
            if (IsOn(Properties(eni)["SourceDestCheck"]) && _forwardersReported.Add(eni))
            {
                Add(eni, "Properties.SourceDestCheck", $"is the primary interface of {instance}, which {why}, but its source/destination check is on", "Set SourceDestCheck: false.");
            }

            return;
        }

        if (!_forwardersReported.Add(instance))
        {
            return;
        }

        Add(instance, "Properties.SourceDestCheck", $"{why} but leaves the source/destination check on (the default), so it drops the traffic it should forward", "Set SourceDestCheck: false.");
    }

    private void CheckSecurityGroups()
    {
        foreach (var (id, properties) in OfType("AWS::EC2::SecurityGroup"))
        {
            foreach (var list in new[] { "SecurityGroupIngress", "SecurityGroupEgress" })
            {
                if (properties[list] is JsonArray rules)
                {
                    for (var i = 0; i < rules.Count; i++)
                    {
                        if (rules[i] is JsonObject rule)
                        {
                            CheckSecurityGroupRule(id, $"Properties.{list}[{Int(i)}]", rule);
                        }
                    }
                }
            }
        }

        foreach (var type in new[] { "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress" })
        {
            foreach (var (id, properties) in OfType(type))
            {
                CheckSecurityGroupRule(id, "Properties", properties);
            }
        }
    }

    private void CheckSecurityGroupRule(string id, string path, JsonObject rule)
    {
        foreach (var peer in new[] { "CidrIp", "DestinationCidrIp" })
        {
            if (rule[peer] is { } cidr)
            {
                Network(id, $"{path}.{peer}", cidr);
            }
        }

        var protocol = rule["IpProtocol"] is JsonValue p ? TemplateVariant.Scalar(p).ToLowerInvariant() : null;
        var from = Integer(rule["FromPort"]);
        var to = Integer(rule["ToPort"]);
        switch (protocol)
        {
            case "tcp" or "udp" or "6" or "17":
                if (rule["FromPort"] is null || rule["ToPort"] is null)
                {
                    Add(id, path, $"a {protocol} rule needs FromPort and ToPort", "Give both; 0 and 65535 cover every port.");
                    break;
                }

                CheckPortRange(id, path, from, to, "FromPort", "ToPort");
                break;
            case "icmp" or "1":
                // For ICMP the two fields hold the type and the code; -1 is "all".
                if (from is < -1 or > 255)
                {
                    Add(id, $"{path}.FromPort", $"{Int(from.Value)} is not an ICMP type (-1 for all, or 0-255)", "Use -1 for every type.");
                }

                if (to is < -1 or > 255)
                {
                    Add(id, $"{path}.ToPort", $"{Int(to.Value)} is not an ICMP code (-1 for all, or 0-255)", "Use -1 for every code.");
                }

                break;
        }
    }

    private void CheckPortRange(string id, string path, int? from, int? to, string fromName, string toName)
    {
        if (from is < 0 or > 65535)
        {
            Add(id, $"{path}.{fromName}", $"{Int(from.Value)} is not a port", "Use a port from 0 to 65535.");
        }

        if (to is < 0 or > 65535)
        {
            Add(id, $"{path}.{toName}", $"{Int(to.Value)} is not a port", "Use a port from 0 to 65535.");
        }

        if (from is { } f && to is { } t && f > t)
        {
            Add(id, $"{path}.{toName}", $"the range {Int(f)}-{Int(t)} ends before it starts", $"Make {toName} at least {fromName}.");
        }
    }

    private void CheckNetworkAcls()
    {
        var seen = new Dictionary<(string Acl, bool Egress, int Number), string>();
        foreach (var (id, properties) in OfType("AWS::EC2::NetworkAclEntry"))
        {
            if (properties["CidrBlock"] is { } cidr)
            {
                Network(id, "Properties.CidrBlock", cidr);
            }

            var number = Integer(properties["RuleNumber"]);
            if (number is < 1 or > 32766)
            {
                Add(id, "Properties.RuleNumber", $"{Int(number.Value)} is not a rule number", "Use 1 to 32766; lower numbers are evaluated first.");
            }

            var egress = properties["Egress"] is JsonValue e && TemplateVariant.Scalar(e) == "true";
            if (number is { } n && RefName(properties["NetworkAclId"]) is { } acl)
            {
                if (seen.TryGetValue((acl, egress, n), out var other))
                {
                    Add(id, "Properties.RuleNumber", $"{acl} already has {(egress ? "outbound" : "inbound")} rule {Int(n)} ({other})", "Give each rule of a direction its own number.");
                }
                else
                {
                    seen[(acl, egress, n)] = id;
                }
            }

            var protocol = Integer(properties["Protocol"]);
            if (protocol is 6 or 17)
            {
                if (properties["PortRange"] is not JsonObject range)
                {
                    Add(id, "Properties", "a TCP or UDP entry needs PortRange", "Add PortRange: {From, To}.");
                }
                else
                {
                    CheckPortRange(id, "Properties.PortRange", Integer(range["From"]), Integer(range["To"]), "From", "To");
                }
            }
            else if (protocol == 1 && properties["Icmp"] is null)
            {
                Add(id, "Properties", "an ICMP entry needs Icmp", "Add Icmp: {Code: -1, Type: -1} for every type and code.");
            }
            else if (protocol is < -1 or > 255)
            {
                Add(id, "Properties.Protocol", $"{Int(protocol.Value)} is not an IP protocol number", "Use -1 for all, 6 for TCP, 17 for UDP, 1 for ICMP.");
            }
        }
    }

    private void CheckLoadBalancing()
    {
        foreach (var type in new[] { "AWS::ElasticLoadBalancingV2::Listener", "AWS::ElasticLoadBalancingV2::TargetGroup" })
        {
            foreach (var (id, properties) in OfType(type))
            {
                if (Integer(properties["Port"]) is { } port && port is < 1 or > 65535)
                {
                    Add(id, "Properties.Port", $"{Int(port)} is not a port", "Use a port from 1 to 65535.");
                }

                if (properties["HealthCheckPort"] is JsonValue health && TemplateVariant.Scalar(health) is var text && text != "traffic-port"
                    && !(int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= 65535))
                {
                    Add(id, "Properties.HealthCheckPort", $"'{text}' is not a port", "Use traffic-port or a port from 1 to 65535.");
                }
            }
        }
    }

    /// <summary>Fixed private addresses: inside their subnet, not one of the five AWS keeps, and used once.</summary>
    private void CheckPrivateAddresses()
    {
        var holders = new List<(string Id, string Path, string? Subnet, JsonNode? Address)>();
        foreach (var (id, properties) in OfType("AWS::EC2::NetworkInterface").Concat(OfType("AWS::EC2::Instance")))
        {
            holders.Add((id, "Properties.PrivateIpAddress", RefName(properties["SubnetId"]), properties["PrivateIpAddress"]));
        }

        foreach (var (id, properties) in OfType("AWS::ElasticLoadBalancingV2::LoadBalancer"))
        {
            var mappings = properties["SubnetMappings"] as JsonArray ?? [];
            for (var i = 0; i < mappings.Count; i++)
            {
                holders.Add((id, $"Properties.SubnetMappings[{Int(i)}].PrivateIPv4Address", RefName(mappings[i]?["SubnetId"]), mappings[i]?["PrivateIPv4Address"]));
            }
        }

        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, path, subnet, node) in holders)
        {
            if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
            {
                continue;
            }

            var text = value.GetValue<string>();
            if (!Ipv4.TryParseAddress(text, out var address, out var problem))
            {
                Add(id, path, $"'{text}' is not an IPv4 address: {problem}", "Write four numbers 0-255 separated by dots.");
                continue;
            }

            if (subnet is not null && _subnetRanges.TryGetValue(subnet, out var range))
            {
                var offset = Ipv4.ToUInt32(address) - Ipv4.First(range);
                if (!range.Contains(address))
                {
                    Add(id, path, $"{address} is not in its subnet {subnet} ({range})", $"Choose an address within {range}.");
                }
                else if (offset < 4 || Ipv4.ToUInt32(address) == Ipv4.Last(range))
                {
                    Add(id, path, $"{address} is one of the five addresses AWS reserves in {range} (the first four and the last)", "Choose another address in the subnet.");
                }
            }

            if (owners.TryGetValue(text, out var owner))
            {
                Add(id, path, $"{address} is also {owner}'s address", "Give each interface its own address.");
            }
            else
            {
                owners[text] = id;
            }
        }
    }

    /// <summary>A literal CIDR, checked strictly (host bits clear); null when it is not literal or not valid.</summary>
    private IPNetwork? Network(string id, string path, JsonNode? node)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
        {
            return null;
        }

        var text = value.GetValue<string>();
        var valid = Ipv4.TryParseCidr(text, out var network, out var problem, out var fix);
        if (problem.Length > 0)
        {
            Add(id, path, problem, fix.EndsWith('.') ? fix : fix + ".");
        }

        return valid ? network : null;
    }

    private JsonObject Properties(string id) =>
        _variant.Resources.TryGetValue(id, out var resource) ? resource["Properties"] as JsonObject ?? [] : [];

    private string? Type(string id) =>
        _variant.Resources.TryGetValue(id, out var resource) ? resource["Type"]?.ToString() : null;

    private HashSet<string> DependsOn(string id) =>
        _variant.Resources.TryGetValue(id, out var resource)
            ? resource["DependsOn"] switch
            {
                JsonValue one => [one.ToString()],
                JsonArray many => many.Select(n => n?.ToString() ?? "").ToHashSet(StringComparer.Ordinal),
                _ => [],
            }
            : [];

    private static string? RefName(JsonNode? node) =>
        node is JsonObject { Count: 1 } obj && obj["Ref"] is JsonValue name ? name.ToString()
        : node is JsonObject { Count: 1 } att && att["Fn::GetAtt"] is JsonArray { Count: 2 } pair ? pair[0]?.ToString()
        : null;

    /// <summary>True unless the value is a literal false: the source/destination check is on by default.</summary>
    private static bool IsOn(JsonNode? node) =>
        node is not JsonValue value || TemplateVariant.Scalar(value) != "false";

    private static int? Integer(JsonNode? node) =>
        node is JsonValue value && int.TryParse(TemplateVariant.Scalar(value), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            ? number
            : null;

    private void Add(string resource, string property, string message, string fix) =>
        _findings.Add(new TemplateFinding(resource, property, message, fix));

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
