using System.CommandLine;
using System.Globalization;
using EgressLab.LoadTests.Compare;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Scenarios;
using EgressLab.Provisioner.Lab;

namespace EgressLab.LoadTests.Cli;

/// <summary>
/// <c>compare</c>: the L3 / L4 / L7 comparison in the network lab, written as results.json, report.md and
/// report.html. Exit codes: 0 done and consistent, 1 the lab or a run failed or the counts do not add up, 2 bad input.
/// </summary>
internal static class CompareCommand
{
    public static readonly IReadOnlyList<string> AllScenarios = ["http-small", "https-small", "new-connection", "bulk", "upload"];

    private const string Description = """
        Bring the network lab up (as root), measure every scenario through every way out of its private subnet, and
        bring the lab down again: L3 from public-1 straight through the Internet Gateway, L4 from private-1 through the
        NAT instance, L4 from private-3 through the NAT gateway (l4-natgw), L7 from private-1 through the proxy instance
        (http_proxy and https_proxy). The NAT gateway probes (natgw-destination-limit, natgw-idle-timeout) run on the
        paths without a proxy, with the lab NAT gateway's limits lowered to 100 connections per destination and a 5 s
        idle timeout (EGRESS_LAB_NATGW_CONNECTIONS_PER_DESTINATION and EGRESS_LAB_NATGW_IDLE_TIMEOUT set others). The paths are
        interleaved: each round runs every scenario on every path once. Each cell is a closed-model run (--concurrency
        users), so every request sent is answered, and the web server's access log must hold exactly the requests the
        load counted. An http-small rate ladder per path gives latency against offered rate. Writes results.json,
        report.md and report.html into --out; with --traffic the reports price each path for that monthly volume.
        """;

    public static Command Create()
    {
        var duration = new Option<string?>("--duration", "-d") { Description = $"Measured time per cell: {DurationText.Forms}. The default is 20s." };
        var warmUp = new Option<string?>("--warmup") { Description = "Warm-up per cell, left out of the results. The default is 3s." };
        var rounds = new Option<string?>("--rounds") { Description = "Rounds; the report shows the median and the spread across them. The default is 3." };
        var concurrency = new Option<string?>("--concurrency", "-c") { Description = "Users per cell. The default is 8." };
        var scenarios = new Option<string?>("--scenarios")
        {
            Description = $"Comma-separated, from {string.Join(", ", AllScenarios)} and the NAT gateway probes {string.Join(", ", NatGatewayProbes.Names)} (run on the paths without a proxy). The default is all of them.",
        };
        var topology = new Option<string?>("--topology", "-t")
        {
            Description = "The lab's topology file. The default is deploy/topologies/nat-gateway.yaml: the seed topology with a NAT gateway beside the NAT instance (path l4-natgw).",
        };
        var ladder = new Option<string?>("--ladder")
        {
            Description = "Offered rates (requests/s) of the http-small ladder on each path, comma-separated, or 'none'. The default is 100,200,400,800.",
        };
        var ladderStep = new Option<string?>("--ladder-step") { Description = "Measured time per ladder rate. The default is 5s." };
        var with = new Option<string?>("--with")
        {
            Description = $"Also measure incumbent proxies in the proxy instance's place, with the same allowlist, as extra L7 paths: {string.Join(", ", IncumbentProxy.Names)} (comma-separated; their Debian packages must be installed).",
        };
        var natFailure = new Option<string?>("--nat-failure")
        {
            Description = "Also fail the NAT instance in the middle of steady traffic from the private subnet (kill or stop-forwarding, as `lab fail nat --mode`), bring it back on the same interface after the lab's failover delays (2s + 3s), and report each path's time without egress and the transfers it lost. About 20 seconds more. The default is none.",
        };
        var outDirectory = new Option<string?>("--out", "-o") { Description = "Where to write results.json, report.md and report.html. The default is compare-results." };
        var command = new Command("compare", Description) { duration, warmUp, rounds, concurrency, scenarios, topology, ladder, ladderStep, with, natFailure, outDirectory };
        var cost = new CostSettings();
        cost.AddTo(command);
        command.SetAction(parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            var problems = new List<string>();
            var (loads, probes) = Scenarios(parse.GetValue(scenarios), problems);
            var options = new Compare.CompareOptions(
                Duration(parse.GetValue(duration), "--duration", TimeSpan.FromSeconds(20), problems),
                Duration(parse.GetValue(warmUp), "--warmup", TimeSpan.FromSeconds(3), problems),
                Count(parse.GetValue(rounds), "--rounds", 3, problems),
                Count(parse.GetValue(concurrency), "--concurrency", 8, problems),
                loads,
                Ladder(parse.GetValue(ladder), problems),
                Duration(parse.GetValue(ladderStep), "--ladder-step", TimeSpan.FromSeconds(5), problems),
                Incumbents(parse.GetValue(with), problems),
                Path.GetFullPath(parse.GetValue(outDirectory) ?? "compare-results"),
                RunEnvironmentProbe.CommandLine("load-tests", Environment.GetCommandLineArgs().Skip(1)),
                NatFailure(parse.GetValue(natFailure), problems))
            {
                Cost = cost.Read(parse, problems),
                Probes = probes,
                Topology = parse.GetValue(topology) is { } file ? Path.GetFullPath(file) : null,
            };
            if (options.Topology is { } path && !File.Exists(path))
            {
                problems.Add($"--topology {path} does not exist: give a topology file (YAML or JSON), or leave it out for nat-gateway.yaml.");
            }

            if (File.Exists(options.OutDirectory))
            {
                problems.Add($"--out {options.OutDirectory} is a file: give a directory.");
            }

            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    error.WriteLine($"error: {problem}");
                }

                return ExitCodes.BadInput;
            }

            return new CompareRunner(LabFor(Environment.GetEnvironmentVariable), parse.InvocationConfiguration.Output, error).Run(options);
        });
        return command;
    }

    private static TimeSpan Duration(string? text, string option, TimeSpan fallback, List<string> problems)
    {
        if (text is null)
        {
            return fallback;
        }

        if (DurationText.TryParse(text, out var value) && value > TimeSpan.Zero)
        {
            return value;
        }

        problems.Add($"{option} '{text}' is not a duration: use {DurationText.Forms}.");
        return fallback;
    }

    private static int Count(string? text, string option, int fallback, List<string> problems)
    {
        if (text is null)
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= 1000)
        {
            return value;
        }

        problems.Add($"{option} '{text}' must be a whole number from 1 to 1000.");
        return fallback;
    }

    /// <summary>
    /// The lab compare builds: the lab's own environment, except that the NAT gateway's idle timeout and per-destination
    /// limit are lowered (to <see cref="NatGatewayIdleTimeout"/> and <see cref="NatGatewayConnectionsPerDestination"/>) so
    /// the probes take seconds on a small machine, unless EGRESS_LAB_NATGW_* set them.
    /// </summary>
    public static LabEnvironment LabFor(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        var lab = LabEnvironment.FromEnvironment();
        return lab with
        {
            NatGateway = new NatGatewayEmulation(
                string.IsNullOrWhiteSpace(variable(NatGatewayEmulation.IdleTimeoutVariable)) ? NatGatewayIdleTimeout : lab.NatGateway.IdleTimeout,
                string.IsNullOrWhiteSpace(variable(NatGatewayEmulation.ConnectionsPerDestinationVariable)) ? NatGatewayConnectionsPerDestination : lab.NatGateway.ConnectionsPerDestination),
        };
    }

    /// <summary>The lab NAT gateway's idle timeout in a compare run, unless set: 5 seconds (AWS: 350).</summary>
    public static readonly TimeSpan NatGatewayIdleTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The lab NAT gateway's per-destination limit in a compare run, unless set: 100 (AWS: 55,000).</summary>
    public const int NatGatewayConnectionsPerDestination = 100;

    private static (List<string> Loads, List<string> Probes) Scenarios(string? text, List<string> problems)
    {
        if (text is null)
        {
            return ([.. AllScenarios], [.. NatGatewayProbes.Names]);
        }

        var chosen = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        foreach (var unknown in chosen.Where(s => !AllScenarios.Contains(s) && !NatGatewayProbes.Names.Contains(s)))
        {
            problems.Add($"--scenarios: '{unknown}' is not a scenario; choose from {string.Join(", ", AllScenarios.Concat(NatGatewayProbes.Names))}.");
        }

        if (chosen.Count == 0)
        {
            problems.Add("--scenarios is empty: name at least one scenario.");
        }

        // Always in the canonical order, so rounds interleave the same way whatever order was typed.
        return ([.. AllScenarios.Where(chosen.Contains)], [.. NatGatewayProbes.Names.Where(chosen.Contains)]);
    }

    private static NatFailureMode? NatFailure(string? text, List<string> problems)
    {
        switch (text)
        {
            case null or "none":
                return null;
            case "kill":
                return NatFailureMode.Kill;
            case "stop-forwarding":
                return NatFailureMode.StopForwarding;
            default:
                problems.Add($"--nat-failure '{text}' is not a failure: choose kill, stop-forwarding or none.");
                return null;
        }
    }

    private static List<string> Incumbents(string? text, List<string> problems)
    {
        var chosen = (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        foreach (var unknown in chosen.Where(n => !IncumbentProxy.Names.Contains(n)))
        {
            problems.Add($"--with: '{unknown}' is not a proxy compare can run; choose from {string.Join(", ", IncumbentProxy.Names)}.");
        }

        return [.. IncumbentProxy.Names.Where(chosen.Contains)];
    }

    private static List<double> Ladder(string? text, List<string> problems)
    {
        if (text is null)
        {
            return [100, 200, 400, 800];
        }

        if (text.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }

        // The same rules as run --ladder, which compare passes the rates on to: checked here, before the lab is built.
        return RunSettings.ParseLadder(text, problems) ?? [];
    }
}
