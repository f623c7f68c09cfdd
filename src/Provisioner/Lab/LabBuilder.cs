using System.Globalization;
using System.Net;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// Builds the lab, or brings one that is partly there to the model: every step checks what exists and only
/// adds what is missing, and rulesets replace themselves, so running it again changes nothing. It never
/// touches the host's root namespace: links are created inside the lab's namespaces, with their peers placed
/// straight into the other namespace.
/// </summary>
internal sealed class LabBuilder(LabEnvironment environment, Shell shell, TextWriter log, LabBuilderOptions? options = null)
{
    /// <summary>The build steps in order; <see cref="LabBuilderOptions.StopAfterStep"/> can stop the build after one (for testing recovery).</summary>
    public static readonly IReadOnlyList<string> Steps = ["namespaces", "links", "routing", "firewalls", "nat", "services"];

    private int _created;

    /// <summary>How many things the last <see cref="Up"/> created (0 when the lab was already complete).</summary>
    public int Created => _created;

    public void Up(TopologyModel model, EgressMode egress)
    {
        var layout = new LabLayout(model);
        var stopAfter = (options ?? LabBuilderOptions.Default).StopAfterStep;
        var steps = new (string Name, Action Run)[]
        {
            ("namespaces", () => Namespaces(model)),
            ("links", () => Links(layout)),
            ("routing", () => Routing(layout)),
            ("firewalls", () => Firewalls(layout)),
            ("nat", () =>
            {
                ConfigureNatInstances(model, egress);
                ConfigureNatGateways(model);
            }),
            ("services", () => new LabServiceRunner(environment, shell, log).Start(model, ref _created)),
        };
        foreach (var (name, run) in steps)
        {
            log.WriteLine($"  {name}");
            run();
            if (stopAfter?.Invoke(name) == true)
            {
                throw new InvalidOperationException($"stopped after step '{name}', as the builder's options asked");
            }
        }
    }

    /// <summary>Applies one route table to the router (the walk-through's route edits).</summary>
    public void ApplyRouteTable(TopologyModel model, RouteTableSpec table) => RouteTable(new LabLayout(model), table);

    /// <summary>Applies the source/destination check of every instance.</summary>
    public void ApplySourceDestCheck(TopologyModel model) =>
        LoadRuleset(environment.Router, LabRulesets.SourceDestCheck(new LabLayout(model)));

    public void ApplyEgressMode(TopologyModel model, EgressMode egress) => ConfigureNatInstances(model, egress);

    private void Namespaces(TopologyModel model)
    {
        var existing = ExistingNamespaces(shell);
        var wanted = new List<string> { environment.Router, environment.Gateway, environment.Internet };
        wanted.AddRange(model.Instances.Select(environment.Namespace));
        wanted.AddRange(model.NatGateways.Select(g => environment.Namespace(g.Name)));
        foreach (var netns in wanted)
        {
            if (!existing.Contains(netns))
            {
                shell.Run("ip", "netns", "add", netns);
                _created++;
            }

            shell.Run("ip", "-n", netns, "link", "set", "lo", "up");
            // The lab is IPv4, like the walk-through; no IPv6 means no link-local traffic slipping past the rules.
            Sysctl(netns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        }

        // `ip netns exec` mounts these over /etc/resolv.conf: instances ask the VPC resolver, never the host's.
        foreach (var instance in model.Instances)
        {
            var etc = LabEnvironment.NetnsEtc(environment.Namespace(instance));
            Directory.CreateDirectory(etc);
            File.WriteAllText(Path.Combine(etc, "resolv.conf"), $"nameserver {model.Vpc.Resolver}\noptions timeout:1 attempts:2\n");
        }
    }

    private void Links(LabLayout layout)
    {
        var model = layout.Model;
        var router = environment.Router;
        Sysctl(router, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0",
            "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0");
        // Bridged frames must not pass through the router's IP firewall (the ACLs), as they would with br_netfilter.
        shell.TryRunIn(router, "sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=0");

        foreach (var subnet in model.Subnets)
        {
            var bridge = layout.Bridge(subnet);
            EnsureLink(router, bridge, "type", "bridge");
            shell.Run("ip", "-n", router, "addr", "replace", $"{subnet.Gateway}/{subnet.Cidr.PrefixLength}", "dev", bridge);
            shell.Run("ip", "-n", router, "link", "set", bridge, "up");
        }

        // The resolver's address lives on the router's loopback (as a /32: a wider prefix on lo would make the
        // whole range local); not every kernel has the dummy device.
        shell.Run("ip", "-n", router, "addr", "replace", $"{model.Vpc.Resolver}/32", "dev", "lo");

        foreach (var instance in model.Instances)
        {
            var netns = environment.Namespace(instance);
            var port = layout.RouterPort(instance);
            var subnet = model.Subnet(instance.Subnet);
            EnsureVeth(router, port, netns, LabLayout.InstanceInterface);
            shell.Run("ip", "-n", router, "link", "set", port, "master", layout.Bridge(subnet), "up");
            shell.Run("ip", "-n", netns, "addr", "replace", $"{instance.PrivateIp}/{subnet.Cidr.PrefixLength}", "dev", LabLayout.InstanceInterface);
            shell.Run("ip", "-n", netns, "link", "set", LabLayout.InstanceInterface, "up");
            shell.Run("ip", "-n", netns, "route", "replace", "default", "via", subnet.Gateway.ToString(), "dev", LabLayout.InstanceInterface);
        }

        foreach (var natGateway in model.NatGateways)
        {
            var subnet = model.Subnet(natGateway.Subnet);
            var netns = environment.Namespace(natGateway.Name);
            var port = LabNatGateways.RouterPort(model, natGateway);
            EnsureVeth(router, port, netns, LabLayout.InstanceInterface);
            shell.Run("ip", "-n", router, "link", "set", port, "master", layout.Bridge(subnet), "up");
            shell.Run("ip", "-n", netns, "addr", "replace", $"{natGateway.PrivateIp}/{subnet.Cidr.PrefixLength}", "dev", LabLayout.InstanceInterface);
            shell.Run("ip", "-n", netns, "link", "set", LabLayout.InstanceInterface, "up");
            shell.Run("ip", "-n", netns, "route", "replace", "default", "via", subnet.Gateway.ToString(), "dev", LabLayout.InstanceInterface);
        }

        // VPC router ↔ Internet Gateway ↔ internet.
        var gateway = environment.Gateway;
        var internet = environment.Internet;
        EnsureVeth(router, LabLayout.RouterUplink, gateway, LabLayout.GatewayVpcSide);
        EnsureVeth(gateway, LabLayout.GatewayInternetSide, internet, LabLayout.InternetUplink);
        Address(router, LabLayout.RouterUplink, LabLayout.RouterUplinkAddress, LabLayout.LinkPrefix);
        Address(gateway, LabLayout.GatewayVpcSide, LabLayout.GatewayVpcAddress, LabLayout.LinkPrefix);
        Address(gateway, LabLayout.GatewayInternetSide, LabLayout.GatewayInternetAddress, LabLayout.LinkPrefix);
        Address(internet, LabLayout.InternetUplink, LabLayout.InternetUplinkAddress, LabLayout.LinkPrefix);
        Sysctl(gateway, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0");
        shell.Run("ip", "-n", gateway, "route", "replace", model.Vpc.Cidr.ToString(), "via", LabLayout.RouterUplinkAddress.ToString());
        shell.Run("ip", "-n", gateway, "route", "replace", "default", "via", LabLayout.InternetUplinkAddress.ToString());

        foreach (var host in model.Internet.Hosts)
        {
            shell.Run("ip", "-n", internet, "addr", "replace", $"{host.Address}/32", "dev", "lo");
        }

        Sysctl(internet, "net.ipv4.ip_forward=1");
        shell.Run("ip", "-n", internet, "route", "replace", model.Internet.ElasticIpRange.ToString(), "via", LabLayout.GatewayInternetAddress.ToString());
        // A hostile neighbour that routes the VPC's private range to the gateway: the IGW must still let nothing in.
        shell.Run("ip", "-n", internet, "route", "replace", model.Vpc.Cidr.ToString(), "via", LabLayout.GatewayInternetAddress.ToString());
    }

    private void Routing(LabLayout layout)
    {
        foreach (var table in layout.Model.RouteTables)
        {
            RouteTable(layout, table);
        }

        // Each subnet's traffic is routed by its own table: policy routing on the bridge it arrives from.
        var rules = shell.Run("ip", "-n", environment.Router, "rule", "show").Output;
        foreach (var (subnet, index) in layout.Model.Subnets.Select((s, i) => (s, i)))
        {
            var preference = (1000 + index).ToString(CultureInfo.InvariantCulture);
            var tableId = layout.RouteTableId(layout.Model.RouteTable(subnet.RouteTable)).ToString(CultureInfo.InvariantCulture);
            var wanted = $"{preference}:\tfrom all iif {layout.Bridge(subnet)} lookup {tableId}";
            if (rules.Split('\n').Any(line => line.Trim() == wanted.Trim()))
            {
                continue;
            }

            while (shell.TryRun("ip", ["-n", environment.Router, "rule", "del", "pref", preference]).Succeeded)
            {
            }

            shell.Run("ip", "-n", environment.Router, "rule", "add", "pref", preference, "iif", layout.Bridge(subnet), "lookup", tableId);
            _created++;
        }
    }

    private void RouteTable(LabLayout layout, RouteTableSpec table)
    {
        var model = layout.Model;
        var router = environment.Router;
        var id = layout.RouteTableId(table).ToString(CultureInfo.InvariantCulture);
        var wanted = new List<string[]>();
        // The local route: the VPC's subnets, and nothing else of the VPC range.
        foreach (var subnet in model.Subnets)
        {
            wanted.Add([subnet.Cidr.ToString(), "dev", layout.Bridge(subnet)]);
        }

        wanted.Add(["blackhole", model.Vpc.Cidr.ToString()]);
        foreach (var route in table.Routes)
        {
            var destination = route.Destination.PrefixLength == 0 ? "default" : route.Destination.ToString();
            if (model.InternetGateway?.Name == route.Target)
            {
                wanted.Add([destination, "via", LabLayout.GatewayVpcAddress.ToString(), "dev", LabLayout.RouterUplink]);
            }
            else
            {
                var (address, subnet) = model.RouteHop(route.Target);
                wanted.Add([destination, "via", address.ToString(), "dev", layout.Bridge(model.Subnet(subnet))]);
            }
        }

        // No route out: packets are dropped silently, so a client times out as it does on AWS.
        if (!table.Routes.Any(r => r.Destination.PrefixLength == 0))
        {
            wanted.Add(["blackhole", "default"]);
        }

        // Flushing a table that was never filled fails ("FIB table does not exist"): nothing to flush then.
        shell.TryRun("ip", ["-n", router, "route", "flush", "table", id]);
        foreach (var route in wanted)
        {
            shell.Run("ip", ["-n", router, "route", "add", .. route, "table", id]);
        }
    }

    private void Firewalls(LabLayout layout)
    {
        var model = layout.Model;
        LoadRuleset(environment.Router, LabRulesets.NetworkAcls(layout));
        LoadRuleset(environment.Router, LabRulesets.SourceDestCheck(layout));
        LoadRuleset(environment.Gateway, LabRulesets.InternetGateway(model));
        foreach (var instance in model.Instances)
        {
            LoadRuleset(environment.Namespace(instance), LabRulesets.SecurityGroups(model, instance));
        }
    }

    private void ConfigureNatInstances(TopologyModel model, EgressMode egress)
    {
        var proxy = model.Instances.FirstOrDefault(i => i.Role == InstanceRole.Proxy);
        foreach (var nat in model.Instances.Where(i => i.Role == InstanceRole.Nat))
        {
            var commands = NatInstanceSetup.Commands(persist: false).ToList();
            if (egress == EgressMode.ProxyOnly && proxy is not null)
            {
                commands.AddRange(NatInstanceSetup.ForwardOnlyFor(proxy.PrivateIp));
            }

            shell.RunIn(environment.Namespace(nat), "sh", "-c", NatInstanceSetup.Script(commands));
        }
    }

    /// <summary>Each NAT gateway's translation, limits and idle timeout (<see cref="LabNatGateways"/>).</summary>
    private void ConfigureNatGateways(TopologyModel model)
    {
        foreach (var natGateway in model.NatGateways)
        {
            var netns = environment.Namespace(natGateway.Name);

            // The ruleset first: its conntrack expressions load the tracker whose timeout the sysctls then set.
            LoadRuleset(netns, LabNatGateways.Ruleset(model, natGateway, environment.NatGateway));
            Sysctl(netns, [.. LabNatGateways.Sysctls(environment.NatGateway)]);
        }
    }

    private void LoadRuleset(string netns, string ruleset) => shell.RunWithInput(ruleset, "ip", "netns", "exec", netns, "nft", "-f", "-");

    private void Sysctl(string netns, params string[] settings) => shell.RunIn(netns, "sysctl", ["-q", "-w", .. settings]);

    private void Address(string netns, string device, IPAddress address, int prefix)
    {
        shell.Run("ip", "-n", netns, "addr", "replace", $"{address}/{prefix}", "dev", device);
        shell.Run("ip", "-n", netns, "link", "set", device, "up");
    }

    private void EnsureLink(string netns, string name, params string[] type)
    {
        if (!LinkExists(netns, name))
        {
            shell.Run("ip", ["-n", netns, "link", "add", name, .. type]);
            _created++;
        }
    }

    /// <summary>A veth pair made inside <paramref name="netns"/>, its peer placed straight into <paramref name="peerNetns"/>.</summary>
    private void EnsureVeth(string netns, string name, string peerNetns, string peerName)
    {
        if (LinkExists(netns, name) && LinkExists(peerNetns, peerName))
        {
            return;
        }

        // Half a pair cannot be: if one end is missing, the other went with its namespace. Remove what is left.
        if (LinkExists(netns, name))
        {
            shell.Run("ip", "-n", netns, "link", "del", name);
        }

        if (LinkExists(peerNetns, peerName))
        {
            shell.Run("ip", "-n", peerNetns, "link", "del", peerName);
        }

        shell.Run("ip", "-n", netns, "link", "add", name, "type", "veth", "peer", "name", peerName, "netns", peerNetns);
        _created++;
    }

    private bool LinkExists(string netns, string name) => shell.TryRun("ip", ["-n", netns, "link", "show", "dev", name]).Succeeded;

    public static HashSet<string> ExistingNamespaces(Shell shell) =>
        [.. shell.Run("ip", "netns", "list").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')[0])];
}
