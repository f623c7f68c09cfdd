using System.Globalization;
using System.Text.RegularExpressions;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// `lab verify`'s checks of a NAT gateway, each with its evidence: the address and source ports it translates to,
/// no security group, nothing reachable on port 22, the reset after the idle timeout and the per-destination limit.
/// The last two are checked with the gateway's timer and limit lowered for the check (3 seconds, 5 connections), so
/// they take seconds, and the gateway's own values are put back afterwards.
/// </summary>
internal sealed partial class NatGatewayChecks(LabEnvironment environment, Shell shell)
{
    /// <summary>The idle timeout the check sets, in seconds.</summary>
    public const int CheckIdleSeconds = 3;

    /// <summary>The per-destination limit the check sets.</summary>
    public const int CheckLimit = 5;

    public void Run(TopologyModel model, WalkthroughPlan plan, Action<string, bool, string> record)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(record);
        if (plan.NatGateway is not { } gateway || plan.NatGatewayHost is not { } host)
        {
            return;
        }

        var netns = environment.Namespace(gateway.Name);
        var client = environment.Namespace(host);
        var checkip = plan.CheckIpAddress.ToString();
        var web = model.Internet.Hosts.First(h => h.Service == InternetService.Web).Address.ToString();

        // Translation: a source port below 1024 comes out as one from 1024 to 65535, from the gateway's Elastic IP.
        var seen = Bash(client, $"curl -s -m 3 --local-port 600-700 http://{checkip}/");
        var rule = Lines(shell.TryRunIn(netns, "nft", "list", "chain", "ip", LabNatGateways.Table, "postrouting").Output).FirstOrDefault(l => l.Contains(':', StringComparison.Ordinal)) ?? "(no rule)";
        var (address, port) = Walkthrough.Seen(seen.Output);
        record($"G1. {host.Name} leaves through NAT gateway {gateway.Name} as its EIP {gateway.ElasticIp}, source port 600-700 -> 1024-65535",
            address == gateway.ElasticIp.ToString() && port is >= 1024 and <= 65535,
            $"{host.Name}:600-700 -> {Walkthrough.SeenText(seen.Output)}; rule: {rule}");

        var tables = Lines(shell.TryRunIn(netns, "nft", "list", "tables").Output);
        record($"G2. {gateway.Name} has no security group: no filter but its own limits",
            tables.Count == 1 && tables[0] == $"table ip {LabNatGateways.Table}",
            $"tables in {gateway.Name}: {string.Join(", ", tables)}");

        var sshBefore = Counter(netns, LabNatGateways.SshDropped);
        var fromInside = Bash(client, $"timeout 3 bash -c 'exec 3<>/dev/tcp/{gateway.PrivateIp}/22'");
        var fromInternet = shell.TryRunIn(environment.Internet, "timeout", "3", "bash", "-c", $"exec 3<>/dev/tcp/{gateway.ElasticIp}/22");
        var sshDropped = Counter(netns, LabNatGateways.SshDropped) - sshBefore;
        record($"G3. nothing answers on {gateway.Name}'s port 22, from the VPC or the internet",
            fromInside.Exit == 124 && fromInternet.ExitCode == 124 && sshDropped > 0,
            $"{gateway.PrivateIp}:22 from {host.Name}: {Outcome(fromInside.Exit)}; {gateway.ElasticIp}:22 from the internet: {Outcome(fromInternet.ExitCode)}; {sshDropped} SYNs dropped");

        // What the gateway has now is put back after the checks; what cannot be read falls back to this lab's settings.
        var (idle, limit) = LabNatGateways.Live(shell, netns);
        idle = idle > 0 ? idle : (int)environment.NatGateway.IdleTimeout.TotalSeconds;
        limit = limit > 0 ? limit : environment.NatGateway.ConnectionsPerDestination;
        try
        {
            CheckIdleTimeout(host, gateway, netns, client, checkip, record);
            CheckDestinationLimit(model, host, gateway, netns, client, web, checkip, record);
        }
        finally
        {
            shell.RunWithInput(LabNatGateways.Ruleset(model, gateway, new NatGatewayEmulation(TimeSpan.FromSeconds(idle), limit)), "ip", "netns", "exec", netns, "nft", "-f", "-");
            shell.RunIn(netns, "sysctl", "-q", "-w", $"{LabNatGateways.EstablishedTimeout}={idle.ToString(CultureInfo.InvariantCulture)}");
        }

        var now = LabNatGateways.Live(shell, netns);
        record($"G6. {gateway.Name}'s own values are back: idle timeout {idle} s, {limit} connections per destination",
            now == (idle, limit), $"{LabNatGateways.EstablishedTimeout}={now.Idle}; ct count over {now.Limit}");
    }

    private void CheckIdleTimeout(InstanceSpec host, NatGatewaySpec gateway, string netns, string client, string checkip, Action<string, bool, string> record)
    {
        shell.RunIn(netns, "sysctl", "-q", "-w", $"{LabNatGateways.EstablishedTimeout}={CheckIdleSeconds.ToString(CultureInfo.InvariantCulture)}");
        var resetsBefore = Counter(netns, LabNatGateways.IdleResets);

        // HEAD leaves nothing unread, so what is read after the idle time answers the request sent after it; the
        // request goes out in one write (cat), and a reset shows as cat's "Connection reset by peer".
        var script = $$"""
            trap '' PIPE
            exec 3<>/dev/tcp/{{checkip}}/80 || exit 2
            request=$'HEAD / HTTP/1.1\r\nHost: {{checkip}}\r\n\r'
            cat <<<"$request" >&3
            while read -t 3 -r line <&3; do [ "$line" = $'\r' ] && break; done
            sleep {{(CheckIdleSeconds + 2).ToString(CultureInfo.InvariantCulture)}}
            cat <<<"$request" >&3
            timeout 3 cat <&3
            """;
        var result = Bash(client, script);
        var resets = Counter(netns, LabNatGateways.IdleResets) - resetsBefore;
        var reset = result.Output.Contains("Connection reset by peer", StringComparison.Ordinal);
        record($"G4. a connection idle past the timer (lowered to {CheckIdleSeconds} s) gets a TCP reset on its next packet",
            reset && resets > 0,
            $"{host.Name} -> {checkip}:80, idle {CheckIdleSeconds + 2} s: {Squeeze(result.Output)}; resets sent by {gateway.Name}: {resets}");
    }

    private void CheckDestinationLimit(TopologyModel model, InstanceSpec host, NatGatewaySpec gateway, string netns, string client, string web, string checkip, Action<string, bool, string> record)
    {
        shell.RunWithInput(LabNatGateways.Ruleset(model, gateway, new NatGatewayEmulation(TimeSpan.FromSeconds(CheckIdleSeconds), CheckLimit)), "ip", "netns", "exec", netns, "nft", "-f", "-");
        var errorsBefore = Counter(netns, LabNatGateways.PortAllocationErrors);
        var attempts = CheckLimit + 2;

        // Each connection is held open (a slow download) while the second destination is tried; curl gives up a
        // connect after 3 s and reports a connect time of 0 for it.
        var script = $$"""
            for i in $(seq 1 {{attempts.ToString(CultureInfo.InvariantCulture)}}); do
              curl -s -o /dev/null -w 'connect %{time_connect}\n' --connect-timeout 3 -m 6 --limit-rate 20k http://{{web}}/10m &
            done
            sleep 2
            curl -s -o /dev/null -w 'second %{http_code}\n' -m 2 http://{{checkip}}/
            wait
            """;
        var result = Bash(client, script);
        var lines = Lines(result.Output);
        var opened = lines.Count(l => l.StartsWith("connect ", StringComparison.Ordinal) && l != "connect 0.000000");
        var second = lines.Contains("second 200");
        var errors = Counter(netns, LabNatGateways.PortAllocationErrors) - errorsBefore;
        record($"G5. at most {CheckLimit} connections (limit lowered from AWS's 55,000) to one destination; others still open",
            opened == CheckLimit && second && errors > 0,
            $"{attempts} to {web}:80 from {host.Name}: {opened} opened, {attempts - opened} failed ({errors} SYNs dropped as port allocation errors); {checkip}:80 meanwhile: {(second ? "opened" : "failed")}");
    }

    private long Counter(string netns, string name)
    {
        var match = Packets().Match(shell.TryRunIn(netns, "nft", "list", "counter", "ip", LabNatGateways.Table, name).Output);
        return match.Success ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
    }

    private (int Exit, string Output) Bash(string netns, string script)
    {
        var result = shell.TryRun("ip", ["netns", "exec", netns, "bash", "-c", script], timeout: TimeSpan.FromSeconds(30));
        return (result.ExitCode, result.Output + result.Error);
    }

    private static string Outcome(int exit) => exit == 124 ? "no answer in 3 s" : $"exit {exit.ToString(CultureInfo.InvariantCulture)}";

    private static List<string> Lines(string text) => [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static string Squeeze(string text) => string.Join(' ', Lines(text));

    [GeneratedRegex(@"packets (\d+)")]
    private static partial Regex Packets();
}
