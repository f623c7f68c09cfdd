using System.Globalization;
using System.Net;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// `lab verify`: replays the NAT-instance walk-through against the running lab, step by step, and prints one
/// row per check with its evidence. It starts from the walk-through's starting point (no route out of the
/// private subnet, the NAT instance's source/destination check on) and puts back whatever it found.
/// </summary>
internal sealed class Walkthrough(LabEnvironment environment, Shell shell, TextWriter output)
{
    private const int CurlTimeoutSeconds = 3;
    private readonly List<(string Check, bool Passed, string Evidence)> _results = [];

    public bool Run()
    {
        var original = LabState.Read(environment) ?? throw new InvalidOperationException("no lab is up");
        var model = original.Model();
        var plan = WalkthroughPlan.From(model);
        if (plan.Problem is { } problem)
        {
            output.WriteLine($"verify cannot run on this topology: {problem}");
            return false;
        }

        output.WriteLine($"verify: replaying the NAT-instance walk-through on {model.Name}");
        var sink = TextWriter.Null;
        var quiet = new LabController(environment, sink, commandLog: null);
        try
        {
            Replay(quiet, plan);
            new NatGatewayChecks(environment, shell).Run(model, plan, Record);
        }
        finally
        {
            Restore(original);
        }

        Print();
        return _results.All(r => r.Passed);
    }

    private void Replay(LabController lab, WalkthroughPlan plan)
    {
        var first = plan.PrivateHosts[0];
        var checkip = $"http://{plan.CheckIpName}/";

        // The starting point: the private route table has only the local route, the source/dest check is on.
        if (plan.PrivateTable.Routes.Any(r => r.Destination.PrefixLength == 0))
        {
            lab.Route(add: false, plan.PrivateTable.Name, "0.0.0.0/0", null);
        }

        lab.SourceDestCheck(plan.Nat.Name, on: true);
        lab.Egress(EgressMode.Nat);

        var before = Curl(first, [checkip]);
        Record($"1. {first.Name} has no route out: checkip times out", before.Exit == 28, Describe(before));

        lab.Route(add: true, plan.PrivateTable.Name, "0.0.0.0/0", plan.Nat.Name);
        var checkOn = Curl(first, [checkip]);
        Record($"2. route to {plan.Nat.Name}, source/dest check on: still times out", checkOn.Exit == 28, Describe(checkOn));

        lab.SourceDestCheck(plan.Nat.Name, on: false);
        var seen = plan.PrivateHosts.Select(h => (Host: h, Result: Curl(h, [checkip]))).ToList();
        var natEip = plan.Nat.ElasticIp!.ToString();
        Record($"3. check off: {string.Join(" and ", plan.PrivateHosts.Select(h => h.Name))} appear as the NAT's EIP {natEip}",
            seen.All(s => s.Result.Exit == 0 && SeenAddress(s.Result.Output) == natEip),
            string.Join("; ", seen.Select(s => $"{s.Host.Name} -> {Describe(s.Result)}")));

        // Port behaviour: the NAT instance keeps a source port while it is free and remaps it on collision.
        var port = Random.Shared.Next(41000, 59000);
        var keep = Curl(first, ["--local-port", Invariant(port), checkip]);
        (int Exit, string Output)? collide = plan.PrivateHosts.Count > 1 ? Curl(plan.PrivateHosts[1], ["--local-port", Invariant(port), checkip]) : null;
        var kept = keep.Exit == 0 && SeenPort(keep.Output) == port;
        var remapped = collide is not { } second || (second.Exit == 0 && SeenPort(second.Output) is { } other && other != port);
        Record($"3b. the NAT keeps source port {port}, and remaps it for a second host using the same one", kept && remapped,
            $"{first.Name}:{port} -> {SeenText(keep.Output)}" + (collide is { } c ? $"; {plan.PrivateHosts[1].Name}:{port} -> {SeenText(c.Output)}" : ""));

        var ping = Run(first, ["ping", "-c", "2", "-W", "2", plan.CheckIpAddress.ToString()]);
        Record($"4. ping {plan.CheckIpAddress} from {first.Name} through the NAT", ping.Exit == 0,
            ping.Output.Split('\n').FirstOrDefault(l => l.Contains("transmitted", StringComparison.Ordinal))?.Trim() ?? Describe(ping));

        var conntrack = shell.TryRunIn(environment.Namespace(plan.Nat), "conntrack", "-L", "-p", "tcp", "-s", first.PrivateIp.ToString());
        var translated = conntrack.Output.Split('\n').FirstOrDefault(l => l.Contains($"dst={plan.Nat.PrivateIp} ", StringComparison.Ordinal));
        Record($"5. the NAT's conntrack maps {first.PrivateIp} to {plan.Nat.PrivateIp}", translated is not null,
            translated is null ? $"no translated entry: {conntrack.Error.Trim()}" : Squeeze(translated));

        if (plan.PublicHost is { } publicHost)
        {
            var publicPort = Random.Shared.Next(41000, 59000);
            var direct = Curl(publicHost, ["--local-port", Invariant(publicPort), checkip]);
            Record($"6. {publicHost.Name} appears as its own EIP {publicHost.ElasticIp} with its own port (1:1 NAT)",
                direct.Exit == 0 && SeenAddress(direct.Output) == publicHost.ElasticIp!.ToString() && SeenPort(direct.Output) == publicPort,
                $"{publicHost.Name}:{publicPort} -> {SeenText(direct.Output)}");
        }

        var counters = plan.PrivateHosts.ToDictionary(h => h.Name, UnsolicitedPackets);
        var probes = new List<string>();
        foreach (var host in plan.PrivateHosts)
        {
            var tcp = shell.TryRunIn(environment.Internet, "curl", "-s", "-m", "2", $"http://{host.PrivateIp}/");
            var icmp = shell.TryRunIn(environment.Internet, "ping", "-c", "1", "-W", "1", host.PrivateIp.ToString());
            probes.Add($"{host.PrivateIp}: curl exit {tcp.ExitCode}, ping exit {icmp.ExitCode}");
        }

        // A counter that cannot be read (-1) proves nothing, so it fails the check rather than reading as zero.
        var arrived = plan.PrivateHosts.Select(h => (h.Name, New: UnsolicitedPackets(h) is var now and >= 0 && counters[h.Name] >= 0 ? now - counters[h.Name] : -1)).ToList();
        Record("7. unsolicited inbound from the internet never reaches a private host", arrived.All(a => a.New == 0),
            $"{string.Join("; ", probes)}; new packets from outside the VPC: {string.Join(", ", arrived.Select(a => $"{a.Name} {a.New}"))}");

        if (plan.Proxy is { } proxy)
        {
            var proxyUrl = $"http://{proxy.PrivateIp}:{plan.ProxyPort}";
            var allowed = Curl(first, ["-o", "/dev/null", "-w", "%{http_code}", $"https://{plan.AllowedName}/"], ("https_proxy", proxyUrl));
            var denied = Curl(first, ["-o", "/dev/null", "-w", "%{http_connect}", $"https://{plan.DeniedName}/"], ("https_proxy", proxyUrl));
            var viaProxy = Curl(first, [checkip], ("http_proxy", proxyUrl));
            Record($"8. through the proxy: {plan.AllowedName} 200, {plan.DeniedName} 403, checkip sees {natEip}",
                allowed.Output.Trim() == "200" && denied.Output.Trim() == "403" && SeenAddress(viaProxy.Output) == natEip,
                $"{plan.AllowedName} -> {allowed.Output.Trim()}; {plan.DeniedName} -> CONNECT {denied.Output.Trim()}; checkip -> {SeenText(viaProxy.Output)}");

            lab.Egress(EgressMode.ProxyOnly);
            var blocked = Curl(first, [checkip]);
            var proxied = Curl(first, [checkip], ("http_proxy", proxyUrl));
            Record("9. proxy-only: direct times out, through the proxy works",
                blocked.Exit == 28 && proxied.Exit == 0 && SeenAddress(proxied.Output) == natEip,
                $"direct -> {Describe(blocked)}; proxied -> {Describe(proxied)}");
        }
    }

    private void Restore(LabState original)
    {
        var builder = new LabBuilder(environment, shell, TextWriter.Null);
        original.Write(environment);
        var model = original.Model();
        foreach (var table in model.RouteTables)
        {
            builder.ApplyRouteTable(model, table);
        }

        builder.ApplySourceDestCheck(model);
        builder.ApplyEgressMode(model, original.Egress);
    }

    private long UnsolicitedPackets(InstanceSpec host)
    {
        var listing = shell.TryRunIn(environment.Namespace(host), "nft", "list", "counter", "inet", LabRulesets.SecurityGroupTable, LabRulesets.UnsolicitedCounter).Output;
        var at = listing.IndexOf("packets ", StringComparison.Ordinal);
        if (at < 0)
        {
            return -1;
        }

        var digits = new string(listing[(at + 8)..].TakeWhile(char.IsAsciiDigit).ToArray());
        return long.Parse(digits, CultureInfo.InvariantCulture);
    }

    private (int Exit, string Output) Curl(InstanceSpec host, string[] arguments, params (string Name, string Value)[] variables) =>
        Run(host, ["curl", "-s", "-m", Invariant(CurlTimeoutSeconds), .. arguments], variables);

    private (int Exit, string Output) Run(InstanceSpec host, string[] command, params (string Name, string Value)[] variables)
    {
        string[] environmentArguments = [.. environment.ClientVariables, .. variables.Select(v => $"{v.Name}={v.Value}")];
        var result = shell.TryRun("ip", ["netns", "exec", environment.Namespace(host), "env", .. environmentArguments, .. command], timeout: TimeSpan.FromSeconds(20));
        return (result.ExitCode, result.Output + result.Error);
    }

    private void Record(string check, bool passed, string evidence) => _results.Add((check, passed, evidence));

    private void Print()
    {
        var width = _results.Max(r => r.Check.Length);
        output.WriteLine();
        output.WriteLine($"{"CHECK".PadRight(width)}  RESULT  EVIDENCE");
        foreach (var (check, passed, evidence) in _results)
        {
            output.WriteLine($"{check.PadRight(width)}  {(passed ? "pass" : "FAIL"),-6}  {evidence}");
        }

        var failed = _results.Count(r => !r.Passed);
        output.WriteLine();
        output.WriteLine(failed == 0 ? $"all {_results.Count} checks passed." : $"{failed} of {_results.Count} checks failed.");
    }

    private static string Describe((int Exit, string Output) result) => result.Exit switch
    {
        0 => Squeeze(result.Output),
        28 => $"timed out after {CurlTimeoutSeconds} s (curl exit 28)",
        _ => $"exit {result.Exit}: {Squeeze(result.Output)}",
    };

    internal static string SeenText(string output) => Seen(output) is var (address, port) && address is not null ? $"{address}:{port}" : Squeeze(output);

    private static string? SeenAddress(string output) => Seen(output).Address;

    private static int? SeenPort(string output) => Seen(output).Port;

    /// <summary>checkip's answer, <c>address:port</c> on the first line, or nulls when the output is something else.</summary>
    internal static (string? Address, int? Port) Seen(string output)
    {
        var line = output.Trim().Split('\n')[0];
        var colon = line.LastIndexOf(':');
        return colon > 0 && IPAddress.TryParse(line[..colon], out _)
            && int.TryParse(line[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? (line[..colon], port)
            : (null, null);
    }

    private static string Squeeze(string text)
    {
        var single = string.Join(' ', text.Split((char[])['\n', '\r', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
        return single.Length > 160 ? single[..160] + "..." : single.Length == 0 ? "(nothing)" : single;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Who plays which part in the walk-through, found from the model.</summary>
}
