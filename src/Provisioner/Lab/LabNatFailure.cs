using System.Diagnostics;
using System.Globalization;
using EgressLab.Provisioner.Processes;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>How <c>lab fail nat</c> breaks the NAT instance.</summary>
internal enum NatFailureMode
{
    /// <summary><c>stop-forwarding</c>: the instance is up but forwards nothing (ip_forward=0), as after a bad change on it.</summary>
    StopForwarding,

    /// <summary><c>kill</c>: the instance is gone; its interface goes down and detaches, its connection tracking is lost.</summary>
    Kill,
}

/// <summary>A NAT failure the lab is in, kept in its state so <c>lab heal nat</c> knows what to undo.</summary>
internal sealed record NatFailureState(string Instance, NatFailureMode Mode, DateTimeOffset Since);

/// <summary>
/// How long the lab's Auto Scaling group of one takes to replace a killed NAT instance (<c>failover: asg-eni</c>).
/// On AWS both are minutes: EC2 status checks fail after a few, and a new instance boots in one or two. The lab's
/// defaults are short so a test or a compare run waits seconds; set them longer to rehearse the real outage.
/// </summary>
internal sealed record NatFailoverTiming
{
    /// <summary>From the kill until the group's health check sees the instance gone. The default is 2 seconds.</summary>
    public TimeSpan Detection { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>From detection until the replacement has booted and attached the interface. The default is 3 seconds.</summary>
    public TimeSpan Boot { get; init; } = TimeSpan.FromSeconds(3);

    public static NatFailoverTiming Default { get; } = new();

    public TimeSpan Total => Detection + Boot;
}

/// <summary>
/// Breaks and restores the NAT instance. The "network interface" is the NAT namespace's eth0 (the veth whose peer
/// is its port on the subnet's bridge): it holds the address the private route points at and the IGW maps the Elastic
/// IP to. Killing the instance detaches it (moves it, down, into a namespace of its own) and deletes the instance's
/// namespace with its connection tracking; a replacement is a new namespace that takes the same interface, so the
/// route, the address, the MAC and the Elastic IP never change, and only the state is new.
/// </summary>
internal sealed class LabNatFailure(LabEnvironment environment, Shell shell, TextWriter output)
{
    /// <summary>Where a detached interface waits: a name no instance can have (instance names take no dot).</summary>
    public string DetachedNamespace(InstanceSpec nat) => environment.Namespace(nat) + ".eni";

    public void Fail(InstanceSpec nat, NatFailureMode mode)
    {
        var netns = environment.Namespace(nat);
        if (mode == NatFailureMode.StopForwarding)
        {
            shell.RunIn(netns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0");
            output.WriteLine($"{nat.Name}: forwarding stopped (ip_forward=0); the instance is up, its connection tracking kept.");
            return;
        }

        var detached = DetachedNamespace(nat);
        if (LabBuilder.ExistingNamespaces(shell).Contains(detached))
        {
            shell.Run("ip", "netns", "del", detached);
        }

        shell.Run("ip", "netns", "add", detached);
        shell.Run("ip", "-n", netns, "link", "set", LabLayout.InstanceInterface, "down");
        shell.Run("ip", "-n", netns, "link", "set", LabLayout.InstanceInterface, "netns", detached);
        shell.Run("ip", "netns", "del", netns);
        output.WriteLine($"{nat.Name}: instance killed: its interface is down and detached, its connection tracking gone with it.");
    }

    /// <summary>Undoes <see cref="Fail"/>: forwarding back on, or a new instance on the same interface.</summary>
    public void Restore(TopologyModel model, InstanceSpec nat, NatFailureMode mode, EgressMode egress)
    {
        if (mode == NatFailureMode.Kill)
        {
            Replace(model, nat);
        }

        // The NAT setup (ip_forward, MASQUERADE, FORWARD) is what a new instance's user-data runs, and what turns
        // forwarding back on.
        new LabBuilder(environment, shell, output).ApplyEgressMode(model, egress);
        if (mode == NatFailureMode.Kill)
        {
            AwaitSubnetRouter(model, nat);
        }
    }

    /// <summary>
    /// Returns once the new instance reaches its subnet's router: the interface has its carrier again and the router
    /// has learnt the address anew (its neighbour entry failed while the instance was gone), so "forwarding again"
    /// holds when this returns, not a moment later.
    /// </summary>
    private void AwaitSubnetRouter(TopologyModel model, InstanceSpec nat)
    {
        var router = model.Subnet(nat.Subnet).Gateway.ToString();
        CommandResult? ping = null;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            ping = shell.TryRunIn(environment.Namespace(nat), "ping", "-c", "1", "-W", "1", router);
            if (ping.Succeeded)
            {
                return;
            }
        }

        throw new LabCommandException(ping!);
    }

    /// <summary>
    /// The Auto Scaling group's replacement: waits the detection and boot delays, then restores the instance as
    /// <see cref="Restore"/> does. Returns how long egress was down from the kill.
    /// </summary>
    public TimeSpan FailOver(TopologyModel model, InstanceSpec nat, EgressMode egress, NatFailoverTiming timing, Stopwatch sinceKill)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{nat.Name}: failover asg-eni: the group's health check sees it gone after {timing.Detection.TotalSeconds:0.#} s, a replacement boots in {timing.Boot.TotalSeconds:0.#} s (minutes each on AWS)."));
        var remaining = timing.Total - sinceKill.Elapsed;
        if (remaining > TimeSpan.Zero)
        {
            Thread.Sleep(remaining);
        }

        Restore(model, nat, NatFailureMode.Kill, egress);
        var elapsed = sinceKill.Elapsed;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{nat.Name}: a replacement holds the interface {nat.PrivateIp} again after {elapsed.TotalSeconds:0.0} s; the private route and the Elastic IP are unchanged; connections the old instance tracked are lost."));
        return elapsed;
    }

    private void Replace(TopologyModel model, InstanceSpec nat)
    {
        var netns = environment.Namespace(nat);
        var detached = DetachedNamespace(nat);
        var subnet = model.Subnet(nat.Subnet);
        shell.Run("ip", "netns", "add", netns);
        shell.Run("ip", "-n", netns, "link", "set", "lo", "up");
        shell.RunIn(netns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");

        // Attach: the same interface, so the router's bridge port, the MAC and the address are the old instance's.
        var device = LabLayout.InstanceInterface;
        shell.Run("ip", "-n", detached, "link", "set", device, "netns", netns);
        shell.Run("ip", "-n", netns, "addr", "replace", $"{nat.PrivateIp}/{subnet.Cidr.PrefixLength}", "dev", device);
        shell.Run("ip", "-n", netns, "link", "set", device, "up");
        shell.Run("ip", "-n", netns, "route", "replace", "default", "via", subnet.Gateway.ToString(), "dev", device);
        shell.RunWithInput(LabRulesets.SecurityGroups(model, nat), "ip", "netns", "exec", netns, "nft", "-f", "-");
        shell.Run("ip", "netns", "del", detached);
        output.WriteLine($"{nat.Name}: a new instance attached the interface ({nat.PrivateIp}).");
    }
}
