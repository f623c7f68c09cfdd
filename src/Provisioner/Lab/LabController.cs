using System.Diagnostics;
using System.Globalization;
using System.Net;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>The `lab` commands. Each returns the process exit code: 0 done, 1 failed, 2 bad input.</summary>
internal sealed class LabController(LabEnvironment environment, TextWriter output, TextWriter error, bool verbose)
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;

    private readonly Shell _shell = new(verbose ? error : null);

    public int Up(string? topologyPath)
    {
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
            if (!loaded.Succeeded || !CheckForLab(loaded.Model!))
            {
                foreach (var problem in loaded.Errors)
                {
                    error.WriteLine($"error: {problem}");
                }

                error.WriteLine("nothing was built.");
                return BadInput;
            }

            var text = File.ReadAllText(path);
            if (existing is not null && existing.TopologyText != text)
            {
                error.WriteLine($"error: a lab built from {existing.TopologySource} is up, and {path} differs from it. Run `lab down` first, or `lab up` without --topology to finish the lab that is up.");
                return BadInput;
            }

            state = existing ?? new LabState
            {
                TopologySource = Path.GetFullPath(path),
                TopologyText = text,
                TopologyFormat = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? TopologyFormat.Json : TopologyFormat.Yaml,
            };
        }

        if (!Prerequisites())
        {
            return Failed;
        }

        // Saved before anything is built, so every later command knows what this lab is meant to be.
        state.Write(environment);
        var model = state.Model();
        output.WriteLine($"lab up: {model.Name} from {state.TopologySource}");
        var builder = new LabBuilder(environment, _shell, output);
        var clock = Stopwatch.StartNew();
        try
        {
            builder.Up(model, state.Egress);
        }
        catch (Exception ex) when (ex is LabCommandException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {ex.Message}");
            error.WriteLine("the lab is partly built: run `lab up` again to finish it, or `lab down` to remove it.");
            return Failed;
        }

        output.WriteLine(builder.Created == 0
            ? $"lab is up; nothing needed to change ({clock.Elapsed.TotalSeconds:0.0} s)."
            : $"lab is up: {builder.Created} namespaces, links, rules and services created in {clock.Elapsed.TotalSeconds:0.0} s.");
        output.WriteLine("next: `lab status`, `lab exec private-1 -- curl -s -m 3 http://checkip.lab.test/`, `lab verify`.");
        return Ok;
    }

    public int Down()
    {
        if (!Prerequisites(needServers: false))
        {
            return Failed;
        }

        var (namespaces, processes) = new LabTeardown(environment, _shell, output).Down();
        output.WriteLine(namespaces == 0
            ? "no lab was up; nothing to remove."
            : $"lab is down: {namespaces} namespaces and {processes} processes removed.");
        return Ok;
    }

    public int Status()
    {
        if (!Prerequisites(needServers: false))
        {
            return Failed;
        }

        var namespaces = LabBuilder.ExistingNamespaces(_shell).Where(environment.Owns).ToHashSet();
        var state = LabState.Read(environment);
        if (state is null)
        {
            output.WriteLine(namespaces.Count == 0
                ? "no lab is up."
                : $"no lab state, but {namespaces.Count} lab namespaces exist (a failed or interrupted up): run `lab down`.");
            return Ok;
        }

        new LabStatusReport(environment, _shell, output).Write(state, namespaces);
        return Ok;
    }

    public int Exec(string host, IReadOnlyList<string> command)
    {
        if (!Prerequisites(needServers: false) || !TryLoad(out var model))
        {
            return Failed;
        }

        if (command.Count == 0)
        {
            error.WriteLine("error: give the command after --, e.g. lab exec private-1 -- curl -s http://checkip.lab.test/");
            return BadInput;
        }

        if (ResolveNode(model, host) is not { } netns)
        {
            return BadInput;
        }

        var start = new ProcessStartInfo("ip") { UseShellExecute = false };
        foreach (var argument in (string[])["netns", "exec", netns, "env", .. environment.ClientVariables, .. command])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode;
    }

    public int Route(bool add, string tableName, string destinationText, string? target)
    {
        if (!Prerequisites(needServers: false) || !TryLoad(out var model, out var state))
        {
            return Failed;
        }

        var table = model.RouteTables.FirstOrDefault(t => t.Name == tableName);
        if (table is null)
        {
            return Bad($"route table '{tableName}' does not exist; the tables are: {string.Join(", ", model.RouteTables.Select(t => t.Name))}");
        }

        if (!Ipv4.TryParseCidr(destinationText, out var destination, out var problem, out var fix) || problem.Length > 0)
        {
            return Bad($"{problem}. {fix}");
        }

        var routes = table.Routes.ToList();
        var current = routes.FindIndex(r => r.Destination == destination);
        if (add)
        {
            if (target is null)
            {
                return Bad($"give --target: the Internet Gateway's name or an instance's ({string.Join(", ", model.Instances.Select(i => i.Name).Prepend(model.InternetGateway?.Name).OfType<string>())})");
            }

            if (current >= 0)
            {
                return Bad($"route table '{tableName}' already has a route for {destination} (to {routes[current].Target}); delete it first");
            }

            routes.Add(new RouteSpec(destination, target));
        }
        else
        {
            if (current < 0)
            {
                return Bad($"route table '{tableName}' has no route for {destination}");
            }

            routes.RemoveAt(current);
        }

        // The edited table must pass the same rules as a topology file: a known target, nothing inside the VPC.
        var changed = table with { Routes = routes };
        var problems = TopologyValidator.Validate(model.WithRouteTable(changed));
        if (problems.Count > 0)
        {
            foreach (var finding in problems)
            {
                error.WriteLine($"error: {finding.Item}: {finding.Message}. {finding.Fix}");
            }

            return BadInput;
        }

        state.WithRoutes(changed).Write(environment);
        new LabBuilder(environment, _shell, output).ApplyRouteTable(model.WithRouteTable(changed), changed);
        output.WriteLine(add ? $"route table {tableName}: {destination} -> {target}" : $"route table {tableName}: {destination} removed");
        return Ok;
    }

    public int SourceDestCheck(string host, bool on)
    {
        if (!Prerequisites(needServers: false) || !TryLoad(out var model, out var state))
        {
            return Failed;
        }

        if (model.FindInstance(host) is not { } instance)
        {
            return Bad($"no instance '{host}'; the instances are: {string.Join(", ", model.Instances.Select(i => i.Name))}");
        }

        var updated = model.WithInstance(instance with { SourceDestCheck = on });
        state.WithSourceDestCheck(host, on).Write(environment);
        new LabBuilder(environment, _shell, output).ApplySourceDestCheck(updated);
        output.WriteLine($"{host}: source/destination check {(on ? "on" : "off")}");
        return Ok;
    }

    public int Egress(EgressMode mode)
    {
        if (!Prerequisites(needServers: false) || !TryLoad(out var model, out var state))
        {
            return Failed;
        }

        if (!model.Instances.Any(i => i.Role == InstanceRole.Nat))
        {
            return Bad("the topology has no instance with role nat");
        }

        if (mode == EgressMode.ProxyOnly && !model.Instances.Any(i => i.Role == InstanceRole.Proxy))
        {
            return Bad("proxy-only needs an instance with role proxy");
        }

        (state with { Egress = mode }).Write(environment);
        new LabBuilder(environment, _shell, output).ApplyEgressMode(model, mode);
        output.WriteLine(mode == EgressMode.ProxyOnly
            ? "the NAT instance now forwards only for the proxy instance: private hosts leave through the proxy or not at all."
            : "the NAT instance forwards for every host again.");
        return Ok;
    }

    public int Verify()
    {
        if (!Prerequisites() || !TryLoad(out _, out _))
        {
            return Failed;
        }

        return new Walkthrough(environment, _shell, output).Run() ? Ok : Failed;
    }

    /// <summary>The namespace of an instance, or of the lab's own nodes (router, igw, internet).</summary>
    private string? ResolveNode(TopologyModel model, string host)
    {
        if (model.FindInstance(host) is not null || LabEnvironment.ReservedNames.Contains(host))
        {
            return environment.Namespace(host);
        }

        Bad($"no host '{host}'; the hosts are: {string.Join(", ", model.Instances.Select(i => i.Name).Concat(LabEnvironment.ReservedNames))}");
        return null;
    }

    private bool TryLoad(out TopologyModel model) => TryLoad(out model, out _);

    private bool TryLoad(out TopologyModel model, out LabState state)
    {
        state = LabState.Read(environment)!;
        if (state is null)
        {
            error.WriteLine("error: no lab is up: run `lab up` first.");
            model = null!;
            return false;
        }

        model = state.Model();
        return true;
    }

    private bool CheckForLab(TopologyModel model)
    {
        var reserved = model.Instances.Where(i => LabEnvironment.ReservedNames.Contains(i.Name)).ToList();
        foreach (var instance in reserved)
        {
            error.WriteLine($"error: {model.Source}: instance '{instance.Name}': the name is reserved for the lab's own {instance.Name} namespace. Rename the instance.");
        }

        return reserved.Count == 0;
    }

    private bool Prerequisites(bool needServers = true)
    {
        var problems = LabPrerequisites.Check(needServers);
        foreach (var problem in problems)
        {
            error.WriteLine($"error: {problem}");
        }

        return problems.Count == 0;
    }

    private int Bad(string message)
    {
        error.WriteLine($"error: {message}");
        return BadInput;
    }
}
