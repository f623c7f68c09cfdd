using System.CommandLine;
using EgressLab.Provisioner.Lab;

namespace EgressLab.Provisioner.Cli;

/// <summary>The command line: `lab ...` builds and drives the network-namespace lab.</summary>
internal static class ProvisionerCommand
{
    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Print every system command the lab runs.", Recursive = true };
        var root = new RootCommand("Egress lab provisioner: builds the VPC of the egress walk-through (Internet Gateway, NAT instance, proxy instance) from one topology model.");
        root.Options.Add(verbose);
        var lab = new Command("lab", "The topology built on this machine from network namespaces (needs root).");
        root.Subcommands.Add(lab);

        LabController Controller(ParseResult parse) => new(LabEnvironment.FromEnvironment(), output, error, parse.GetValue(verbose));

        var topology = new Option<string?>("--topology", "-t") { Description = "Topology file (YAML or JSON). The default is deploy/topologies/default.yaml." };
        var up = new Command("up", "Build the lab, or finish one that is partly built. Running it again changes nothing.") { topology };
        up.SetAction(parse => Controller(parse).Up(parse.GetValue(topology)));
        lab.Subcommands.Add(up);

        var down = new Command("down", "Remove every namespace, link, rule and process of the lab, also after a failed or interrupted up.");
        down.SetAction(parse => Controller(parse).Down());
        lab.Subcommands.Add(down);

        var status = new Command("status", "Show what exists, per host and per route table.");
        status.SetAction(parse => Controller(parse).Status());
        lab.Subcommands.Add(status);

        var host = new Argument<string>("host") { Description = "An instance (private-1, nat, ...) or router, igw, internet." };
        var command = new Argument<string[]>("command") { Description = "The command and its arguments, after --.", Arity = ArgumentArity.ZeroOrMore };
        var exec = new Command("exec", "Run a command inside a host: lab exec private-1 -- curl -s http://checkip.lab.test/") { host, command };
        exec.SetAction(parse => Controller(parse).Exec(parse.GetValue(host)!, parse.GetValue(command) ?? []));
        lab.Subcommands.Add(exec);

        var route = new Command("route", "Edit a route table, as in the VPC console.");
        var table = new Argument<string>("route-table") { Description = "The route table's name (public, private)." };
        var cidr = new Argument<string>("cidr") { Description = "The destination, such as 0.0.0.0/0." };
        var target = new Option<string?>("--target") { Description = "Where the route sends traffic: the Internet Gateway's name or an instance's (igw, nat)." };
        var routeAdd = new Command("add", "Add a route.") { table, cidr, target };
        routeAdd.SetAction(parse => Controller(parse).Route(add: true, parse.GetValue(table)!, parse.GetValue(cidr)!, parse.GetValue(target)));
        var routeDelete = new Command("delete", "Delete a route.") { table, cidr };
        routeDelete.SetAction(parse => Controller(parse).Route(add: false, parse.GetValue(table)!, parse.GetValue(cidr)!, null));
        route.Subcommands.Add(routeAdd);
        route.Subcommands.Add(routeDelete);
        lab.Subcommands.Add(route);

        var checkHost = new Argument<string>("host") { Description = "The instance." };
        var onOff = new Argument<string>("state") { Description = "on or off." };
        onOff.AcceptOnlyFromAmong("on", "off");
        var sourceDest = new Command("source-dest-check", "Turn an instance's source/destination check on or off (a NAT instance needs it off).") { checkHost, onOff };
        sourceDest.SetAction(parse => Controller(parse).SourceDestCheck(parse.GetValue(checkHost)!, parse.GetValue(onOff) == "on"));
        lab.Subcommands.Add(sourceDest);

        var mode = new Argument<string>("mode") { Description = "nat: the NAT instance forwards for every host; proxy-only: only for the proxy instance." };
        mode.AcceptOnlyFromAmong("nat", "proxy-only");
        var egress = new Command("egress", "Choose who the NAT instance forwards for.") { mode };
        egress.SetAction(parse => Controller(parse).Egress(parse.GetValue(mode) == "nat" ? EgressMode.Nat : EgressMode.ProxyOnly));
        lab.Subcommands.Add(egress);

        var verify = new Command("verify", "Replay the walk-through and print one row per check; exit 0 only if every check passes.");
        verify.SetAction(parse => Controller(parse).Verify());
        lab.Subcommands.Add(verify);

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors)
            {
                error.WriteLine($"error: {problem.Message}");
            }

            error.WriteLine("see --help for the commands and their arguments.");
            return LabController.BadInput;
        }

        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }
}
