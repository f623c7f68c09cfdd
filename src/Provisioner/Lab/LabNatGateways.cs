using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// A managed NAT gateway as a namespace on its public subnet's bridge, behaving as AWS documents it: it translates
/// every connection routed to it to its own address with a source port from 1024 to 65535; it carries at most
/// <see cref="NatGatewayEmulation.ConnectionsPerDestination"/> simultaneous connections to one destination (address,
/// port, protocol) and drops the SYN of any further one, as a gateway that cannot allocate a port does
/// (ErrorPortAllocation); it forgets a TCP connection idle for <see cref="NatGatewayEmulation.IdleTimeout"/> and
/// answers the next packet of it with a TCP reset; it has no security group (nothing filters what is routed to it)
/// and nothing reaches the gateway itself: a connection to its port 22 goes unanswered.
/// </summary>
internal static partial class LabNatGateways
{
    public const string Table = "egress_lab_natgw";
    public const string DestinationSet = "destinations";
    public const string PortAllocationErrors = "port_allocation_errors";
    public const string IdleResets = "idle_resets";
    public const string SshDropped = "ssh_dropped";
    public const string SourcePorts = "1024-65535";
    public const string EstablishedTimeout = "net.netfilter.nf_conntrack_tcp_timeout_established";

    /// <summary>The router-side end of a NAT gateway's link, a port on its subnet's bridge.</summary>
    public static string RouterPort(TopologyModel model, NatGatewaySpec gateway) =>
        $"vg{model.NatGateways.Select((g, i) => (g, i)).Single(p => p.g.Name == gateway.Name).i.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The gateway's ruleset. The per-destination limit is an nftables connection count in a dynamic set keyed by
    /// destination address, protocol and port; the idle timeout is the namespace's conntrack timeout for established
    /// TCP (<see cref="Sysctls"/>), after which the next packet belongs to no connection and is answered with a reset.
    /// </summary>
    public static string Ruleset(TopologyModel model, NatGatewaySpec gateway, NatGatewayEmulation emulation)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(emulation);
        var vpc = model.Vpc.Cidr;
        var own = gateway.PrivateIp;
        var limit = emulation.ConnectionsPerDestination.ToString(CultureInfo.InvariantCulture);
        var eth = LabLayout.InstanceInterface;
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"table ip {Table}\ndelete table ip {Table}\ntable ip {Table} {{\n")
            .Append(CultureInfo.InvariantCulture, $"  counter {PortAllocationErrors} {{ }}\n  counter {IdleResets} {{ }}\n  counter {SshDropped} {{ }}\n")
            .Append(CultureInfo.InvariantCulture, $"  set {DestinationSet} {{ type ipv4_addr . inet_proto . inet_service; flags dynamic; size 65535; }}\n")
            // Nothing listens on the gateway and nothing may reach it: only replies to what it sends itself come in.
            .Append("  chain input {\n    type filter hook input priority filter; policy drop;\n")
            .Append("    ct state established,related accept\n")
            .Append(CultureInfo.InvariantCulture, $"    tcp dport 22 counter name \"{SshDropped}\" drop\n  }}\n")
            .Append("  chain forward {\n    type filter hook forward priority filter; policy accept;\n")
            // A packet of a connection the gateway no longer knows (idle past the timeout): a reset to the sender behind it.
            .Append(CultureInfo.InvariantCulture, $"    ip saddr {vpc} ip daddr != {vpc} meta l4proto tcp ct state invalid counter name \"{IdleResets}\" reject with tcp reset\n")
            .Append("    ct state invalid drop\n")
            .Append(CultureInfo.InvariantCulture, $"    ip saddr {vpc} ct state new add @{DestinationSet} {{ ip daddr . meta l4proto . th dport ct count over {limit} }} counter name \"{PortAllocationErrors}\" drop\n  }}\n")
            .Append("  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n")
            .Append(CultureInfo.InvariantCulture, $"    oifname \"{eth}\" ip saddr {vpc} ip saddr != {own} ip daddr != {vpc} meta l4proto {{ tcp, udp }} snat to {own}:{SourcePorts}\n")
            .Append(CultureInfo.InvariantCulture, $"    oifname \"{eth}\" ip saddr {vpc} ip saddr != {own} ip daddr != {vpc} snat to {own}\n  }}\n")
            .Append("}\n");
        return text.ToString();
    }

    /// <summary>
    /// Forwarding on, no redirects (packets leave by the interface they came in on, back to the VPC router), the
    /// idle timeout, and strict TCP tracking: a packet that does not open a connection cannot start one, so after
    /// the timeout it is invalid rather than picked up again mid-stream.
    /// </summary>
    public static IReadOnlyList<string> Sysctls(NatGatewayEmulation emulation)
    {
        ArgumentNullException.ThrowIfNull(emulation);
        return
        [
            "net.ipv4.ip_forward=1",
            "net.ipv4.conf.all.send_redirects=0",
            "net.ipv4.conf.default.send_redirects=0",
            "net.ipv4.conf.all.rp_filter=0",
            "net.ipv4.conf.default.rp_filter=0",
            $"{EstablishedTimeout}={((int)emulation.IdleTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture)}",
            "net.netfilter.nf_conntrack_tcp_loose=0",
        ];
    }

    /// <summary>The idle timeout (seconds) and per-destination limit a running gateway has now, read from its namespace; -1 for what cannot be read.</summary>
    public static (int Idle, int Limit) Live(Shell shell, string netns)
    {
        ArgumentNullException.ThrowIfNull(shell);
        var idle = int.TryParse(shell.TryRunIn(netns, "sysctl", "-n", EstablishedTimeout).Output.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? seconds : -1;
        var match = CountOver().Match(shell.TryRunIn(netns, "nft", "list", "chain", "ip", Table, "forward").Output);
        var limit = match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
        return (idle, limit);
    }

    [GeneratedRegex(@"ct count over (\d+)")]
    private static partial Regex CountOver();
}
