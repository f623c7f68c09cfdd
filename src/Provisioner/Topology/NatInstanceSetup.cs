using System.Net;

namespace EgressLab.Provisioner.Topology;

/// <summary>
/// The NAT instance's configuration, as shell commands: the same commands its AWS user-data runs and the lab
/// runs inside the NAT instance's namespace, so the two cannot drift apart.
/// </summary>
internal static class NatInstanceSetup
{
    /// <summary>
    /// Turns on forwarding, masquerades on the primary interface (the one the default route leaves by, found when
    /// the script runs rather than assumed to be eth0) and empties FORWARD. Safe to run twice.
    /// </summary>
    /// <param name="persist">Also write the settings where they survive a reboot (on AWS; the lab is rebuilt instead).</param>
    public static IReadOnlyList<string> Commands(bool persist)
    {
        var lines = new List<string> { "sysctl -w net.ipv4.ip_forward=1" };
        if (persist)
        {
            lines.Add("echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/90-nat-instance.conf");
        }

        lines.Add("IFACE=$(ip -o -4 route show default | awk '{print $5; exit}')");
        lines.Add("[ -n \"$IFACE\" ] || { echo 'no default route: cannot find the primary interface' >&2; exit 1; }");
        lines.Add("iptables -t nat -C POSTROUTING -o \"$IFACE\" -j MASQUERADE 2>/dev/null || iptables -t nat -A POSTROUTING -o \"$IFACE\" -j MASQUERADE");
        lines.Add("iptables -F FORWARD");
        lines.Add("iptables -P FORWARD ACCEPT");
        if (persist)
        {
            lines.Add("service iptables save");
        }

        return lines;
    }

    /// <summary>
    /// Makes the NAT instance forward only for <paramref name="only"/> (replies included), so other hosts in the
    /// private subnet can leave only through the proxy.
    /// </summary>
    public static IReadOnlyList<string> ForwardOnlyFor(IPAddress only) =>
    [
        "iptables -F FORWARD",
        "iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
        $"iptables -A FORWARD -s {only} -j ACCEPT",
        "iptables -A FORWARD -j DROP",
    ];

    /// <summary>Undoes <see cref="ForwardOnlyFor"/>: forward for every host again, as the user-data leaves it.</summary>
    public static IReadOnlyList<string> ForwardForAll() =>
    [
        "iptables -F FORWARD",
        "iptables -P FORWARD ACCEPT",
    ];

    public static string Script(IEnumerable<string> commands) => "set -e\n" + string.Join('\n', commands) + "\n";
}
