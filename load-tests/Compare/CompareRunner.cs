using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using EgressLab.LoadTests.Cost;
using EgressLab.LoadTests.Reports;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Scenarios;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Topology;

namespace EgressLab.LoadTests.Compare;

/// <summary>
/// `compare`: brings the lab up in the walk-through's end state, runs every scenario through every egress path
/// from inside the lab (round after round, each round visiting every path once per scenario, so a slow
/// moment of the machine does not land on one path only), checks the web server logged every request the
/// load counted, writes results.json, report.md and report.html, and always brings the lab down again.
/// </summary>
internal sealed class CompareRunner(LabEnvironment environment, TextWriter output, TextWriter error)
{
    private static readonly TimeSpan CommandMargin = TimeSpan.FromSeconds(90);
    private readonly Shell _shell = new(null);

    public int Run(CompareOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (LabPrerequisites.Check() is { Count: > 0 } problems)
        {
            foreach (var problem in problems)
            {
                error.WriteLine($"error: {problem}");
            }

            return ExitCodes.Failed;
        }

        var missing = options.With.Select(IncumbentProxy.Create).Where(p => LabPrerequisites.FindOnPath(p.Program) is null).ToList();
        if (missing.Count > 0)
        {
            error.WriteLine($"error: --with needs {string.Join(" and ", missing.Select(p => p.Program))}: install the Debian package (apt-get install {string.Join(' ', missing.Select(p => p.Name))}), or leave it out of --with.");
            return ExitCodes.Failed;
        }

        if (LabState.Read(environment) is not null)
        {
            error.WriteLine("error: a lab is already up. compare builds its own lab and removes it afterwards: run `lab down` first.");
            return ExitCodes.BadInput;
        }

        var lab = new LabController(environment, TextWriter.Null, commandLog: null);
        try
        {
            output.WriteLine("compare: bringing the lab up");
            var up = lab.Up(options.Topology ?? DefaultTopology.NatGatewayPath);
            if (!up.Succeeded)
            {
                up.WriteErrorsTo(error);
                return ExitCodes.Failed;
            }

            return Measure(lab, options);
        }
        catch (CompareException ex)
        {
            error.WriteLine($"error: {ex.Message}");
            return ExitCodes.Failed;
        }
        finally
        {
            output.WriteLine("compare: bringing the lab down");
            lab.Down().WriteErrorsTo(error);
        }
    }

    private int Measure(LabController lab, CompareOptions options)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var model = LabState.Read(environment)!.Model();
        var plan = WalkthroughPlan.From(model);
        if (plan.Problem is { } problem)
        {
            throw new CompareException($"compare cannot run on this topology: {problem}");
        }

        // The walk-through's end state: the private subnet routes through the NAT instance, whose check is off.
        foreach (var step in (Func<LabResult>[])[() => lab.Route(add: true, plan.PrivateTable.Name, "0.0.0.0/0", plan.Nat.Name), () => lab.SourceDestCheck(plan.Nat.Name, on: false)])
        {
            if (step() is { Succeeded: false } refused)
            {
                throw new CompareException($"could not route the private subnet through the NAT instance: {string.Join("; ", refused.Errors)}");
            }
        }

        var services = new LabServices(environment, model);
        var checkUrl = $"http://{plan.CheckIpName}/";
        var paths = LabPaths.From(environment, model, plan, [.. options.With.Select(IncumbentProxy.Create)]).ToList();
        var seat = plan.Proxy is { } proxy
            ? new ProxySeat(environment, model, _shell, environment.Namespace(proxy), new IPEndPoint(proxy.PrivateIp, model.Proxy.Port), environment.Namespace(plan.PrivateHosts[0]), checkUrl)
            : null;
        for (var i = 0; i < paths.Count; i++)
        {
            Seat(seat, paths[i]);
            paths[i] = paths[i] with { Path = paths[i].Path with { SeenSource = SeenSource(paths[i], checkUrl) } };
        }

        foreach (var path in paths)
        {
            output.WriteLine($"  {path.Path.Id}: {path.Path.Title} from {path.Path.Client}; checkip sees {path.Path.SeenSource}");
        }

        var web = plan.AllowedName;
        var ladders = new Dictionary<string, IReadOnlyList<LadderStep>>();
        if (options.Ladder.Count > 0)
        {
            foreach (var path in paths)
            {
                Seat(seat, path);
                output.WriteLine($"  ladder on {path.Path.Id}: {string.Join(", ", options.Ladder.Select(r => r.ToString(CultureInfo.InvariantCulture)))} requests/s");
                var ladder = RunLoad(path, web, "http-small",
                    ["--ladder", string.Join(',', options.Ladder.Select(r => r.ToString(CultureInfo.InvariantCulture))), "--duration", Seconds(options.LadderStep), "--warmup", Seconds(options.WarmUp)],
                    (options.LadderStep + options.WarmUp) * options.Ladder.Count);
                ladders[path.Path.Id] = ladder.Ladder ?? [];
            }
        }

        var cells = new List<CompareCell>();
        var counted = paths.ToDictionary(p => p.Path.Id, _ => 0L);
        var logged = paths.ToDictionary(p => p.Path.Id, _ => 0L);
        var failed = paths.ToDictionary(p => p.Path.Id, _ => 0L);
        for (var round = 1; round <= options.Rounds; round++)
        {
            foreach (var scenario in options.Scenarios)
            {
                foreach (var path in paths)
                {
                    output.WriteLine($"  round {round}/{options.Rounds}: {scenario} on {path.Path.Id}");
                    Seat(seat, path);
                    var before = CountLines(services.WebAccessLog);
                    var results = RunLoad(path, web, scenario,
                        ["--concurrency", options.Concurrency.ToString(CultureInfo.InvariantCulture), "--duration", Seconds(options.CellDuration), "--warmup", Seconds(options.WarmUp)],
                        options.CellDuration + options.WarmUp);
                    var result = results.Results.Single();
                    counted[path.Path.Id] += result.SucceededIncludingWarmUp;
                    failed[path.Path.Id] += result.FailedIncludingWarmUp;
                    logged[path.Path.Id] += SettledLineCount(services.WebAccessLog, before, result.SucceededIncludingWarmUp);
                    cells.Add(new CompareCell(path.Path.Id, scenario, round, result));
                }
            }
        }

        NatFailureResults? natFailure = null;
        if (options.NatFailure is { } failure)
        {
            // From the private subnet only: the public host leaves by the Internet Gateway, which a NAT failure does not touch.
            var throughNat = paths.Where(p => p.Path.Id is "l4" or "l7").ToList();
            foreach (var path in throughNat)
            {
                Seat(seat, path);
            }

            natFailure = new NatFailureRun(lab, environment, _shell, output).Run(throughNat, plan.Nat.Name, checkUrl, web, new NatFailureSettings(failure, NatFailoverTiming.Default));
        }

        var probes = RunProbes(paths, model, plan, options.Probes);
        var compare = new CompareResults
        {
            Environment = Describe(options.CommandLine, startedAt),
            Rounds = options.Rounds,
            CellDurationSeconds = options.CellDuration.TotalSeconds,
            Paths = [.. paths.Select(p => p.Path)],
            Cells = cells,
            Ladders = ladders,
            Accounting = [.. paths.Select(p => new RequestAccounting(p.Path.Id, counted[p.Path.Id], logged[p.Path.Id], failed[p.Path.Id]))],
            NatFailure = natFailure,
            Probes = probes,
            NatGateway = model.NatGateways.Count > 0
                ? new NatGatewayLimits(environment.NatGateway.IdleTimeout.TotalSeconds, environment.NatGateway.ConnectionsPerDestination)
                : null,
        };
        Write(options.OutDirectory, compare, options.Cost);
        var mismatched = compare.Accounting.Where(a => !a.AddsUp).ToList();
        foreach (var row in mismatched)
        {
            error.WriteLine($"error: on {row.PathId} {row.Counted} requests succeeded and {row.Failed} failed, but the web server logged {row.Logged}.");
        }

        output.WriteLine($"compare: wrote results.json, report.md and report.html to {options.OutDirectory}");
        return mismatched.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>Runs the load generator inside the path's client namespace and reads back what it wrote.</summary>
    private RunResults RunLoad(LabPath path, string web, string scenario, IReadOnlyList<string> load, TimeSpan expected) =>
        RunInLab<RunResults>(path, scenario, ["run", "--scenario", scenario, "--url", web, .. load, "--quiet"], expected);

    /// <summary>Runs a load-tests command inside the path's client namespace with --json, and reads back what it wrote.</summary>
    private T RunInLab<T>(LabPath path, string what, IReadOnlyList<string> command, TimeSpan expected)
        where T : class
    {
        var json = Path.Combine(Path.GetTempPath(), $"egress-compare-{Guid.NewGuid():N}.json");
        try
        {
            string[] arguments =
            [
                "netns", "exec", path.Namespace, "env", .. path.Variables,
                LabPrerequisites.DotnetHost(), typeof(CompareRunner).Assembly.Location,
                .. command, "--json", json,
            ];
            var result = _shell.TryRun("ip", arguments, timeout: expected + CommandMargin);
            if (!File.Exists(json))
            {
                throw new CompareException($"{what} on {path.Path.Id} produced no results (exit {result.ExitCode}): {result.Error.Trim()} {result.Output.Trim()}");
            }

            return JsonSerializer.Deserialize<T>(File.ReadAllText(json), ResultsJson.Options)
                ?? throw new CompareException($"{what} on {path.Path.Id} wrote empty results");
        }
        finally
        {
            File.Delete(json);
        }
    }

    /// <summary>
    /// The NAT gateway probes on every path that leaves without a proxy, so the NAT gateway's limits show beside paths
    /// that have none: the limit probe tries ten connections more than the gateway's limit, the idle probe waits two
    /// seconds past its idle timeout.
    /// </summary>
    private List<ProbeCell> RunProbes(IReadOnlyList<LabPath> paths, TopologyModel model, WalkthroughPlan plan, IReadOnlyList<string> probes)
    {
        var cells = new List<ProbeCell>();
        var web = model.Internet.Hosts.First(h => h.Service == InternetService.Web);
        var target = $"{web.Address}:80";
        var second = $"{plan.CheckIpAddress}:80";
        var emulation = environment.NatGateway;
        var attempts = Math.Min(emulation.ConnectionsPerDestination + 10, 20_000).ToString(CultureInfo.InvariantCulture);
        var idle = emulation.IdleTimeout + TimeSpan.FromSeconds(2);
        foreach (var probe in probes)
        {
            foreach (var path in paths.Where(p => !p.ThroughProxy))
            {
                output.WriteLine($"  probe: {probe} on {path.Path.Id}");
                string[] arguments = probe == NatGatewayProbes.DestinationLimit
                    ? ["--target", target, "--second", second, "--attempts", attempts]
                    : ["--target", second, "--host", plan.CheckIpName, "--idle", Seconds(idle)];
                var cell = RunInLab<ProbeCell>(path, probe, ["probe", "--scenario", probe, .. arguments], probe == NatGatewayProbes.IdleTimeout ? idle : TimeSpan.FromSeconds(10));
                cells.Add(cell with { PathId = path.Path.Id });
            }
        }

        return cells;
    }

    /// <summary>Puts the proxy a path goes through on the proxy instance; paths that use no proxy leave it as it is.</summary>
    private static void Seat(ProxySeat? seat, LabPath path)
    {
        if (path.ThroughProxy)
        {
            seat?.Seat(path.Proxy);
        }
    }

    /// <summary>What checkip sees of a request sent along the path: its source address and port on the internet.</summary>
    private string SeenSource(LabPath path, string checkUrl)
    {
        var result = _shell.TryRun("ip", ["netns", "exec", path.Namespace, "env", .. path.Variables, "curl", "-s", "-m", "5", checkUrl]);
        var seen = result.Output.Trim();
        return result.Succeeded && seen.Length > 0
            ? seen
            : throw new CompareException($"checkip is not reachable from {path.Path.Client} on the {path.Path.Id} path: {result.Error.Trim()}");
    }

    /// <summary>
    /// How many lines the web server added to its log since <paramref name="before"/>. It logs a request just after
    /// answering it, so the count is given a moment to reach what the load counted before it is taken.
    /// </summary>
    private static long SettledLineCount(string log, long before, long expected)
    {
        var deadline = Stopwatch.StartNew();
        long added;
        while ((added = CountLines(log) - before) < expected && deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            Thread.Sleep(50);
        }

        return added;
    }

    private static long CountLines(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var buffer = new byte[64 * 1024];
        long lines = 0;
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }

        return lines;
    }

    private static void Write(string directory, CompareResults compare, CostEstimate? cost)
    {
        Directory.CreateDirectory(directory);
        ReportFiles.WriteAtomically(directory,
        [
            ("results.json", ResultsJson.Serialize(compare)),
            (ReportFiles.Markdown, MarkdownReport.Render(compare, cost)),
            (ReportFiles.Html, HtmlReport.Render(compare, cost)),
        ]);
    }

    private static RunEnvironment Describe(string commandLine, DateTimeOffset startedAt) => RunEnvironmentProbe.Capture(commandLine, startedAt);

    private static string Seconds(TimeSpan value) => string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0}ms");
}

/// <summary>A compare run that cannot go on, with the reason for the user.</summary>
internal sealed class CompareException(string message) : Exception(message);
