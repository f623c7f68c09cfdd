using System.Globalization;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>`lab status`: what exists, per host and per route table, read from the kernel next to what the model says.</summary>
internal sealed class LabStatusReport(LabEnvironment environment, Shell shell, TextWriter output)
{
    public void Write(LabState state, IReadOnlySet<string> namespaces)
    {
        var model = state.Model();
        var layout = new LabLayout(model);
        var services = new LabServices(environment, model);
        output.WriteLine($"lab {model.Name} from {state.TopologySource}; egress mode: {(state.Egress == EgressMode.Nat ? "nat" : "proxy-only")}");
        output.WriteLine();
        output.WriteLine($"{"HOST",-12} {"ROLE",-7} {"SUBNET",-10} {"PRIVATE IP",-15} {"ELASTIC IP",-15} {"SRC/DST CHECK",-13} {"NAMESPACE",-9} RUNNING");
        foreach (var instance in model.Instances)
        {
            var netns = environment.Namespace(instance);
            var present = namespaces.Contains(netns);
            var address = present && shell.TryRun("ip", ["-n", netns, "-4", "-o", "addr", "show", "dev", LabLayout.InstanceInterface]).Output
                .Contains(instance.PrivateIp.ToString() + "/", StringComparison.Ordinal);
            var running = instance.Role == InstanceRole.Proxy
                ? LabProcesses.IsRunning(services.ProxyPidFile, "ProxyInstance") ? $"proxy :{model.Proxy.Port}" : "proxy NOT RUNNING"
                : "-";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{instance.Name,-12} {instance.Role.ToString().ToLowerInvariant(),-7} {instance.Subnet,-10} {instance.PrivateIp + (address ? "" : "!"),-15} {instance.ElasticIp?.ToString() ?? "-",-15} {(instance.SourceDestCheck ? "on" : "off"),-13} {(present ? "ok" : "MISSING"),-9} {running}"));
        }

        // NAT gateways: no role, no source/destination check; what runs is the gateway's own translation.
        foreach (var gateway in model.NatGateways)
        {
            var netns = environment.Namespace(gateway.Name);
            var present = namespaces.Contains(netns);
            var (idle, limit) = present ? LabNatGateways.Live(shell, netns) : (-1, -1);
            var limits = string.Create(CultureInfo.InvariantCulture, $"idle timeout {idle} s, {limit} connections per destination");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{gateway.Name,-12} {"natgw",-7} {gateway.Subnet,-10} {gateway.PrivateIp,-15} {gateway.ElasticIp,-15} {"-",-13} {(present ? "ok" : "MISSING"),-9} {limits}"));
        }

        foreach (var (node, what) in new[] { (LabEnvironment.RouterNode, $"VPC router, resolver {model.Vpc.Resolver} ({(LabProcesses.IsRunning(services.DnsmasqPidFile, "dnsmasq") ? "running" : "NOT RUNNING")})"),
                     (LabEnvironment.GatewayNode, "Internet Gateway (1:1 NAT for Elastic IPs)"),
                     (LabEnvironment.InternetNode, $"internet {model.Internet.Cidr}: {string.Join(", ", model.Internet.Hosts.Select(h => $"{h.Name} {h.Address}"))} (nginx {(LabProcesses.IsRunning(services.NginxPidFile, "nginx") ? "running" : "NOT RUNNING")})") })
        {
            output.WriteLine($"{node,-12} {(namespaces.Contains(environment.Namespace(node)) ? "ok" : "MISSING"),-7} {what}");
        }

        output.WriteLine();
        foreach (var table in model.RouteTables)
        {
            var subnets = model.Subnets.Where(s => s.RouteTable == table.Name).Select(s => $"{s.Name} {s.Cidr}");
            output.WriteLine($"route table {table.Name} (subnets: {string.Join(", ", subnets)})");
            output.WriteLine($"  {model.Vpc.Cidr,-18} local");
            foreach (var route in table.Routes)
            {
                output.WriteLine($"  {route.Destination,-18} {route.Target}");
            }

            if (namespaces.Contains(environment.Router))
            {
                var id = layout.RouteTableId(table).ToString(CultureInfo.InvariantCulture);
                var kernel = shell.TryRun("ip", ["-n", environment.Router, "route", "show", "table", id]).Output.Trim();
                output.WriteLine($"  kernel (router table {id}):");
                foreach (var line in kernel.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    output.WriteLine($"    {line.Trim()}");
                }
            }
        }
    }
}
