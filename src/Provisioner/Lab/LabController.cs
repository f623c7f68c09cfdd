using System.Diagnostics;
using EgressLab.Provisioner.Processes;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// The lab as a library: each operation returns a typed result (its outcome, what it did, every error with its
/// fix) for the CLI to print and map to an exit code, and for the load tests' compare to act on. Progress and
/// reports (the build steps, `lab status`, `lab verify`'s table) go to <paramref name="output"/> as they happen;
/// every system command to <paramref name="commandLog"/> when it is set (--verbose). Only tests set
/// <paramref name="builderOptions"/>.
/// </summary>
internal sealed class LabController(LabEnvironment environment, TextWriter output, TextWriter? commandLog, LabBuilderOptions? builderOptions = null)
{
    private readonly Shell _shell = new(commandLog);

    public LabUpResult Up(string? topologyPath)
    {
        if (environment.SettingProblems.Count > 0)
        {
            return LabUpResult.From(LabResult.Bad([.. environment.SettingProblems]) with { Advice = "nothing was built." });
        }

        var existing = LabState.Read(environment);
        LabState state;
        if (existing is not null && topologyPath is null)
        {
            state = existing;
        }
        else
        {
            // The topology is checked before anything else, so a bad file never leaves anything half-built.
            var path = topologyPath ?? DefaultTopology.Path;
            var loaded = TopologyLoader.Load(path);
            var problems = loaded.Errors.Select(e => e.ToString()).ToList();
            if (loaded.Succeeded)
            {
                problems.AddRange(ReservedNameProblems(loaded.Model!));
            }

            if (problems.Count > 0)
            {
                return LabUpResult.From(LabResult.Bad([.. problems]) with { Advice = "nothing was built." });
            }

            var text = File.ReadAllText(path);
            if (existing is not null && existing.TopologyText != text)
            {
                return LabUpResult.From(LabResult.Bad($"a lab built from {existing.TopologySource} is up, and {path} differs from it. Run `lab down` first, or `lab up` without --topology to finish the lab that is up."));
            }

            state = existing ?? new LabState
            {
                TopologySource = Path.GetFullPath(path),
                TopologyText = text,
                TopologyFormat = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? TopologyFormat.Json : TopologyFormat.Yaml,
            };
        }

        if (Prerequisites() is { } missing)
        {
            return LabUpResult.From(missing);
        }

        // Saved before anything is built, so every later command knows what this lab is meant to be. Building
        // also repairs a NAT instance that `lab fail nat` broke.
        state = state with { NatFailure = null };
        state.Write(environment);
        var model = state.Model();
        output.WriteLine($"lab up: {model.Name} from {state.TopologySource}");
        var builder = new LabBuilder(environment, _shell, output, builderOptions);
        var clock = Stopwatch.StartNew();
        try
        {
            builder.Up(model, state.Egress);
        }
        catch (Exception ex) when (ex is LabCommandException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            return new LabUpResult(LabOutcome.Failed, [ex.Message], builder.Created, clock.Elapsed)
            {
                Advice = "the lab is partly built: run `lab up` again to finish it, or `lab down` to remove it.",
            };
        }

        return new LabUpResult(LabOutcome.Done, [], builder.Created, clock.Elapsed);
    }

    public LabDownResult Down()
    {
        if (Prerequisites(needServers: false) is { } missing)
        {
            return new LabDownResult(missing.Outcome, missing.Errors, 0, 0);
        }

        var (namespaces, processes) = new LabTeardown(environment, _shell, output).Down();
        return new LabDownResult(LabOutcome.Done, [], namespaces, processes);
    }

    public LabResult Status()
    {
        if (Prerequisites(needServers: false) is { } missing)
        {
            return missing;
        }

        var namespaces = LabBuilder.ExistingNamespaces(_shell).Where(environment.Owns).ToHashSet();
        var state = LabState.Read(environment);
        if (state is null)
        {
            output.WriteLine(namespaces.Count == 0
                ? "no lab is up."
                : $"no lab state, but {namespaces.Count} lab namespaces exist (a failed or interrupted up): run `lab down`.");
            return LabResult.Done;
        }

        new LabStatusReport(environment, _shell, output).Write(state, namespaces);
        return LabResult.Done;
    }

    public LabExecResult Exec(string host, IReadOnlyList<string> command)
    {
        if (Ready(needServers: false, out var model, out _) is { } failure)
        {
            return new LabExecResult(failure.Outcome, failure.Errors, 0);
        }

        if (command.Count == 0)
        {
            return new LabExecResult(LabOutcome.BadInput, ["give the command after --, e.g. lab exec private-1 -- curl -s http://checkip.lab.test/"], 0);
        }

        if (model.FindInstance(host) is null && !LabEnvironment.ReservedNames.Contains(host))
        {
            return new LabExecResult(LabOutcome.BadInput, [$"no host '{host}'; the hosts are: {string.Join(", ", model.Instances.Select(i => i.Name).Concat(LabEnvironment.ReservedNames))}"], 0);
        }

        var netns = environment.Namespace(host);
        var exitCode = ProcessRunner.RunAttached("ip", ["netns", "exec", netns, "env", .. environment.ClientVariables, .. command]);
        return new LabExecResult(LabOutcome.Done, [], exitCode);
    }

    public LabResult Route(bool add, string tableName, string destinationText, string? target)
    {
        if (Ready(needServers: false, out var model, out var state) is { } failure)
        {
            return failure;
        }

        var table = model.RouteTables.FirstOrDefault(t => t.Name == tableName);
        if (table is null)
        {
            return LabResult.Bad($"route table '{tableName}' does not exist; the tables are: {string.Join(", ", model.RouteTables.Select(t => t.Name))}");
        }

        if (!Ipv4.TryParseCidr(destinationText, out var destination, out var problem, out var fix) || problem.Length > 0)
        {
            return LabResult.Bad($"{problem}. {fix}");
        }

        var routes = table.Routes.ToList();
        var current = routes.FindIndex(r => r.Destination == destination);
        if (add)
        {
            if (target is null)
            {
                return LabResult.Bad($"give --target: the Internet Gateway's name, an instance's or a NAT gateway's ({string.Join(", ", model.Instances.Select(i => i.Name).Concat(model.NatGateways.Select(g => g.Name)).Prepend(model.InternetGateway?.Name).OfType<string>())})");
            }

            if (current >= 0)
            {
                return LabResult.Bad($"route table '{tableName}' already has a route for {destination} (to {routes[current].Target}); delete it first");
            }

            routes.Add(new RouteSpec(destination, target));
        }
        else
        {
            if (current < 0)
            {
                return LabResult.Bad($"route table '{tableName}' has no route for {destination}");
            }

            routes.RemoveAt(current);
        }

        // The edited table must pass the same rules as a topology file: a known target, nothing inside the VPC.
        var changed = table with { Routes = routes };
        var problems = TopologyValidator.Validate(model.WithRouteTable(changed));
        if (problems.Count > 0)
        {
            return LabResult.Bad([.. problems.Select(finding => $"{finding.Item}: {finding.Message}. {finding.Fix}")]);
        }

        state.WithRoutes(changed).Write(environment);
        new LabBuilder(environment, _shell, output).ApplyRouteTable(model.WithRouteTable(changed), changed);
        output.WriteLine(add ? $"route table {tableName}: {destination} -> {target}" : $"route table {tableName}: {destination} removed");
        return LabResult.Done;
    }

    public LabResult SourceDestCheck(string host, bool on)
    {
        if (Ready(needServers: false, out var model, out var state) is { } failure)
        {
            return failure;
        }

        if (model.FindInstance(host) is not { } instance)
        {
            return LabResult.Bad($"no instance '{host}'; the instances are: {string.Join(", ", model.Instances.Select(i => i.Name))}");
        }

        var updated = model.WithInstance(instance with { SourceDestCheck = on });
        state.WithSourceDestCheck(host, on).Write(environment);
        new LabBuilder(environment, _shell, output).ApplySourceDestCheck(updated);
        output.WriteLine($"{host}: source/destination check {(on ? "on" : "off")}");
        return LabResult.Done;
    }

    public LabResult Egress(EgressMode mode)
    {
        if (Ready(needServers: false, out var model, out var state) is { } failure)
        {
            return failure;
        }

        if (!model.Instances.Any(i => i.Role == InstanceRole.Nat))
        {
            return LabResult.Bad("the topology has no instance with role nat");
        }

        if (mode == EgressMode.ProxyOnly && !model.Instances.Any(i => i.Role == InstanceRole.Proxy))
        {
            return LabResult.Bad("proxy-only needs an instance with role proxy");
        }

        (state with { Egress = mode }).Write(environment);
        new LabBuilder(environment, _shell, output).ApplyEgressMode(model, mode);
        output.WriteLine(mode == EgressMode.ProxyOnly
            ? "the NAT instance now forwards only for the proxy instance: private hosts leave through the proxy or not at all."
            : "the NAT instance forwards for every host again.");
        return LabResult.Done;
    }

    /// <summary>
    /// <c>lab fail nat</c>: breaks the NAT instance. A killed instance with <c>failover: asg-eni</c> is replaced after
    /// <paramref name="timing"/>'s delays, and this returns once the replacement forwards; anything else stays broken
    /// until <see cref="HealNat"/>.
    /// </summary>
    public LabResult FailNat(string host, NatFailureMode mode, NatFailoverTiming timing)
    {
        if (Ready(needServers: false, out var model, out var state) is { } failure)
        {
            return failure;
        }

        if (NatInstance(model, host) is not { } nat)
        {
            return NoNat(model, host);
        }

        if (state.NatFailure is { } current)
        {
            return LabResult.Bad($"the NAT instance '{current.Instance}' has been failed ({Describe(current.Mode)}) since {current.Since:HH:mm:ss}; run `lab heal nat` first.");
        }

        var clock = Stopwatch.StartNew();
        (state with { NatFailure = new NatFailureState(nat.Name, mode, DateTimeOffset.UtcNow) }).Write(environment);
        var failures = new LabNatFailure(environment, _shell, output);
        failures.Fail(nat, mode);
        if (nat.Failover != NatFailover.AsgEni)
        {
            output.WriteLine($"private egress through {nat.Name} is down until `lab heal nat` (the topology has no failover for it).");
            return LabResult.Done;
        }

        if (mode == NatFailureMode.StopForwarding)
        {
            // An EC2 status check sees a running instance, not forwarding: the group keeps it.
            output.WriteLine($"failover asg-eni does not replace {nat.Name}: its health check sees a running instance. `lab heal nat` restores it.");
            return LabResult.Done;
        }

        failures.FailOver(model, nat, state.Egress, timing, clock);
        (state with { NatFailure = null }).Write(environment);
        return LabResult.Done;
    }

    /// <summary><c>lab heal nat</c>: undoes <see cref="FailNat"/> (forwarding back on, or a new instance on the same interface).</summary>
    public LabResult HealNat(string host)
    {
        if (Ready(needServers: false, out var model, out var state) is { } failure)
        {
            return failure;
        }

        if (NatInstance(model, host) is not { } nat)
        {
            return NoNat(model, host);
        }

        if (state.NatFailure is not { } current)
        {
            return LabResult.Bad($"the NAT instance '{nat.Name}' is not failed: nothing to heal.");
        }

        new LabNatFailure(environment, _shell, output).Restore(model, nat, current.Mode, state.Egress);
        (state with { NatFailure = null }).Write(environment);
        output.WriteLine($"{nat.Name}: forwarding again, at {nat.PrivateIp}.");
        return LabResult.Done;
    }

    private static InstanceSpec? NatInstance(TopologyModel model, string host) =>
        model.FindInstance(host) is { Role: InstanceRole.Nat } nat ? nat : null;

    private static LabResult NoNat(TopologyModel model, string host)
    {
        var nats = model.Instances.Where(i => i.Role == InstanceRole.Nat).Select(i => i.Name).ToList();
        return LabResult.Bad(nats.Count == 0
            ? "the topology has no instance with role nat, so there is no NAT to fail."
            : $"'{host}' is not a NAT instance; the NAT instances are: {string.Join(", ", nats)}");
    }

    private static string Describe(NatFailureMode mode) => mode == NatFailureMode.Kill ? "kill" : "stop-forwarding";

    /// <summary>Shows or changes the proxy instance's policy: <c>lab proxy-policy [--mode report|enforce] [--from FILE] [--reset]</c>.</summary>
    public LabResult ProxyPolicy(LabPolicyChange change)
    {
        if (Ready(needServers: false, out var model, out var state) is { } failure)
        {
            return failure;
        }

        return new LabProxyPolicy(environment, _shell, output).Apply(model, state, change);
    }

    public LabResult Verify()
    {
        if (Ready(needServers: true, out _, out _) is { } failure)
        {
            return failure;
        }

        return new Walkthrough(environment, _shell, output).Run() ? LabResult.Done : LabResult.Failed([]);
    }

    /// <summary>The lab that is up, or the failure to return when the machine cannot run it or none is up.</summary>
    private LabResult? Ready(bool needServers, out TopologyModel model, out LabState state)
    {
        if (Prerequisites(needServers) is { } missing)
        {
            model = null!;
            state = null!;
            return missing;
        }

        state = LabState.Read(environment)!;
        if (state is null)
        {
            model = null!;
            return LabResult.Failed(["no lab is up: run `lab up` first."]);
        }

        model = state.Model();
        return null;
    }

    private static IEnumerable<string> ReservedNameProblems(TopologyModel model) =>
        model.Instances.Where(i => LabEnvironment.ReservedNames.Contains(i.Name))
            .Select(i => $"{model.Source}: instance '{i.Name}': the name is reserved for the lab's own {i.Name} namespace. Rename the instance.")
            .Concat(model.NatGateways.Where(g => LabEnvironment.ReservedNames.Contains(g.Name))
                .Select(g => $"{model.Source}: NAT gateway '{g.Name}': the name is reserved for the lab's own {g.Name} namespace. Rename the NAT gateway."));

    /// <summary>Null when the machine can run the lab; otherwise the failure, with every missing piece.</summary>
    private static LabResult? Prerequisites(bool needServers = true) =>
        LabPrerequisites.Check(needServers) is { Count: > 0 } problems ? LabResult.Failed([.. problems]) : null;
}
