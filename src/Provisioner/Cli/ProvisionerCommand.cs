using System.CommandLine;
using EgressLab.Provisioner.CloudFormation;
using EgressLab.Provisioner.Lab;

namespace EgressLab.Provisioner.Cli;

/// <summary>The command line: `lab ...` builds and drives the network-namespace lab; `aws ...` renders, validates and deploys the same topology as a CloudFormation stack.</summary>
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

        LabController Controller(ParseResult parse) => new(LabEnvironment.FromEnvironment(), output, parse.GetValue(verbose) ? error : null);
        var print = new LabCommandOutput(output, error);

        var topology = new Option<string?>("--topology", "-t") { Description = "Topology file (YAML or JSON). The default is deploy/topologies/default.yaml." };
        var up = new Command("up", "Build the lab, or finish one that is partly built. Running it again changes nothing.") { topology };
        up.SetAction(parse => print.Up(Controller(parse).Up(parse.GetValue(topology))));
        lab.Subcommands.Add(up);

        var down = new Command("down", "Remove every namespace, link, rule and process of the lab, also after a failed or interrupted up.");
        down.SetAction(parse => print.Down(Controller(parse).Down()));
        lab.Subcommands.Add(down);

        var status = new Command("status", "Show what exists, per host and per route table.");
        status.SetAction(parse => print.Exit(Controller(parse).Status()));
        lab.Subcommands.Add(status);

        var host = new Argument<string>("host") { Description = "An instance (private-1, nat, ...) or router, igw, internet." };
        var command = new Argument<string[]>("command") { Description = "The command and its arguments, after --.", Arity = ArgumentArity.ZeroOrMore };
        var exec = new Command("exec", "Run a command inside a host: lab exec private-1 -- curl -s http://checkip.lab.test/") { host, command };
        exec.SetAction(parse => print.Exec(Controller(parse).Exec(parse.GetValue(host)!, parse.GetValue(command) ?? [])));
        lab.Subcommands.Add(exec);

        var route = new Command("route", "Edit a route table, as in the VPC console.");
        var table = new Argument<string>("route-table") { Description = "The route table's name (public, private)." };
        var cidr = new Argument<string>("cidr") { Description = "The destination, such as 0.0.0.0/0." };
        var target = new Option<string?>("--target") { Description = "Where the route sends traffic: the Internet Gateway's name or an instance's (igw, nat)." };
        var routeAdd = new Command("add", "Add a route.") { table, cidr, target };
        routeAdd.SetAction(parse => print.Exit(Controller(parse).Route(add: true, parse.GetValue(table)!, parse.GetValue(cidr)!, parse.GetValue(target))));
        var routeDelete = new Command("delete", "Delete a route.") { table, cidr };
        routeDelete.SetAction(parse => print.Exit(Controller(parse).Route(add: false, parse.GetValue(table)!, parse.GetValue(cidr)!, null)));
        route.Subcommands.Add(routeAdd);
        route.Subcommands.Add(routeDelete);
        lab.Subcommands.Add(route);

        var checkHost = new Argument<string>("host") { Description = "The instance." };
        var onOff = new Argument<string>("state") { Description = "on or off." };
        onOff.AcceptOnlyFromAmong("on", "off");
        var sourceDest = new Command("source-dest-check", "Turn an instance's source/destination check on or off (a NAT instance needs it off).") { checkHost, onOff };
        sourceDest.SetAction(parse => print.Exit(Controller(parse).SourceDestCheck(parse.GetValue(checkHost)!, parse.GetValue(onOff) == "on")));
        lab.Subcommands.Add(sourceDest);

        var mode = new Argument<string>("mode") { Description = "nat: the NAT instance forwards for every host; proxy-only: only for the proxy instance." };
        mode.AcceptOnlyFromAmong("nat", "proxy-only");
        var egress = new Command("egress", "Choose who the NAT instance forwards for.") { mode };
        egress.SetAction(parse => print.Exit(Controller(parse).Egress(parse.GetValue(mode) == "nat" ? EgressMode.Nat : EgressMode.ProxyOnly)));
        lab.Subcommands.Add(egress);

        var policyMode = new Option<string?>("--mode") { Description = "report: what the policy would deny goes through and is logged WOULD_DENY; enforce: it is refused (403)." };
        policyMode.AcceptOnlyFromAmong("report", "enforce");
        var policyFrom = new Option<string?>("--from") { Description = "A configuration file whose Proxy.Policy section replaces the keys it sets (DefaultAction, Rules, ...), such as `ProxyInstance allowlist suggest` prints." };
        var policyReset = new Option<bool>("--reset") { Description = "Put back the topology's allowlist (proxy.allowedDomains), enforced." };
        var proxyPolicy = new Command("proxy-policy", "Show or change the proxy instance's policy; returns once the proxy has reloaded it. Without options, print the policy in force.")
        {
            policyMode, policyFrom, policyReset,
        };
        proxyPolicy.SetAction(parse => print.Exit(Controller(parse).ProxyPolicy(new LabPolicyChange(
            parse.GetValue(policyMode) switch { "report" => LabPolicyMode.Report, "enforce" => LabPolicyMode.Enforce, _ => null },
            parse.GetValue(policyFrom),
            parse.GetValue(policyReset)))));
        lab.Subcommands.Add(proxyPolicy);

        lab.Subcommands.Add(FailCommand(Controller, print));
        lab.Subcommands.Add(HealCommand(Controller, print));

        var verify = new Command("verify", "Replay the walk-through and print one row per check; exit 0 only if every check passes.");
        verify.SetAction(parse => print.Exit(Controller(parse).Verify()));
        lab.Subcommands.Add(verify);

        root.Subcommands.Add(AwsCommand(output, error));

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors)
            {
                error.WriteLine($"error: {problem.Message}");
            }

            error.WriteLine("see --help for the commands and their arguments.");
            return ExitCodes.BadInput;
        }

        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    private static Command FailCommand(Func<ParseResult, LabController> controller, LabCommandOutput print)
    {
        var nat = new Argument<string>("nat") { Description = "The NAT instance (nat in the default topology)." };
        var mode = new Option<string>("--mode")
        {
            Description = "stop-forwarding: the instance stays up but forwards nothing (ip_forward=0); kill: the instance dies, its interface goes down and its connection tracking is lost.",
            DefaultValueFactory = _ => "kill",
        };
        mode.AcceptOnlyFromAmong("stop-forwarding", "kill");
        var detection = new Option<string?>("--detection-delay") { Description = "failover asg-eni: how long until the group's health check sees a killed instance gone (such as 2s or 500ms). The default is 2s; on AWS, minutes." };
        var boot = new Option<string?>("--boot-delay") { Description = "failover asg-eni: how long the replacement takes to boot and attach the interface. The default is 3s; on AWS, a minute or two." };
        var fail = new Command("fail", "Break the NAT instance: lab fail nat --mode stop-forwarding|kill. With failover: asg-eni a killed instance is replaced after the delays, and the command returns then.")
        {
            nat, mode, detection, boot,
        };
        fail.SetAction(parse =>
        {
            var problems = new List<string>();
            var timing = NatFailoverTiming.Default with
            {
                Detection = LabDelay(parse.GetValue(detection), "--detection-delay", NatFailoverTiming.Default.Detection, problems),
                Boot = LabDelay(parse.GetValue(boot), "--boot-delay", NatFailoverTiming.Default.Boot, problems),
            };
            if (problems.Count > 0)
            {
                return print.Exit(LabResult.Bad([.. problems]));
            }

            var failure = parse.GetValue(mode) == "stop-forwarding" ? NatFailureMode.StopForwarding : NatFailureMode.Kill;
            return print.Exit(controller(parse).FailNat(parse.GetValue(nat)!, failure, timing));
        });
        return fail;
    }

    private static Command HealCommand(Func<ParseResult, LabController> controller, LabCommandOutput print)
    {
        var nat = new Argument<string>("nat") { Description = "The NAT instance that `lab fail nat` broke." };
        var heal = new Command("heal", "Undo `lab fail nat`: forwarding back on, or a new instance on the killed one's network interface.") { nat };
        heal.SetAction(parse => print.Exit(controller(parse).HealNat(parse.GetValue(nat)!)));
        return heal;
    }

    /// <summary>A delay such as <c>2s</c>, <c>500ms</c> or <c>1m</c>; adds a problem and returns the fallback when it is not one.</summary>
    private static TimeSpan LabDelay(string? text, string option, TimeSpan fallback, List<string> problems)
    {
        if (text is null)
        {
            return fallback;
        }

        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : (text, double.NaN);
        if (!double.IsNaN(unit) && double.TryParse(number, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var value) && value * unit <= 3600)
        {
            return TimeSpan.FromSeconds(value * unit);
        }

        problems.Add($"{option} '{text}' is not a delay: write a number with ms, s or m, such as 2s or 500ms (at most 60m).");
        return fallback;
    }

    private static Command AwsCommand(TextWriter output, TextWriter error)
    {
        var aws = new Command("aws", "The same topology as a CloudFormation stack: render and validate offline, deploy and destroy with the AWS CLI.");
        StackController Controller() => new(output, error);

        var topology = new Option<string?>("--topology", "-t") { Description = "Topology file (YAML or JSON). The default is deploy/topologies/default.yaml." };
        var asWritten = new Option<bool>("--as-written")
        {
            Description = "Render route tables and source/destination checks exactly as the topology has them. By default the template is the walk-through's end state: private route tables without a default route send 0.0.0.0/0 to the NAT instance, whose check is off.",
        };

        var outFile = new Option<string?>("--out", "-o") { Description = "Write the template to this file (only when it validates). The default is standard output." };
        var render = new Command("render", "Write the CloudFormation template (YAML) for a topology, validated as `aws validate` does.") { topology, outFile, asWritten };
        render.SetAction(parse => ExitCodes.For(Controller().Render(parse.GetValue(topology), parse.GetValue(outFile), parse.GetValue(asWritten)).Outcome));
        aws.Subcommands.Add(render);

        var file = new Argument<string>("template") { Description = "A CloudFormation template, YAML (short-form tags such as !Ref accepted) or JSON." };
        var parameter = new Option<string[]>("--parameter", "-p")
        {
            Description = "A parameter value, NAME=VALUE, checked against the template and used to decide its conditions. Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var validate = new Command("validate", "Check a template offline: every resource's Properties against its schema, every Ref and Fn::GetAtt, and the network rules (subnets, routes, source/destination check, ports, CIDRs) for each variant of its parameters.") { file, parameter };
        validate.SetAction(parse => ExitCodes.For(Controller().Validate(parse.GetValue(file)!, parse.GetValue(parameter) ?? []).Outcome));
        aws.Subcommands.Add(validate);

        var stackName = new Option<string>("--stack-name") { Description = "The CloudFormation stack's name.", Required = true };
        var region = new Option<string?>("--region") { Description = "The AWS region. The default is the AWS CLI's (AWS_REGION, or its configuration)." };
        var packageUrl = new Option<string?>("--proxy-package-url") { Description = "HTTPS URL of the proxy build from deploy/publish.sh, fetched by the proxy instance at boot (an S3 presigned URL works)." };
        var packageSha = new Option<string?>("--proxy-package-sha256") { Description = "The build's SHA-256, as publish.sh prints it; the instance refuses a download that does not match." };
        var allowed = new Option<string?>("--allowed-domains") { Description = "The proxy's allowlist, comma-separated without spaces (checkip.amazonaws.com,.example.com). The default is checkip.amazonaws.com." };
        var keyName = new Option<string?>("--key-name") { Description = "An EC2 key pair for SSH. Without one, use SSM Session Manager." };
        var fleetSize = new Option<int?>("--proxy-fleet-size") { Description = "Proxy instances: 1 (the default), or more behind an internal Network Load Balancer at the same address." };
        var deploy = new Command("deploy", "Render the topology and create or update the stack (aws cloudformation deploy), then print its outputs.")
        {
            stackName, topology, region, packageUrl, packageSha, allowed, keyName, fleetSize, parameter, asWritten,
        };
        deploy.SetAction(parse => ExitCodes.For(Controller().Deploy(new DeployRequest
        {
            StackName = parse.GetValue(stackName)!,
            Topology = parse.GetValue(topology),
            Region = parse.GetValue(region),
            ProxyPackageUrl = parse.GetValue(packageUrl),
            ProxyPackageSha256 = parse.GetValue(packageSha),
            AllowedDomains = parse.GetValue(allowed),
            KeyName = parse.GetValue(keyName),
            ProxyFleetSize = parse.GetValue(fleetSize),
            Parameters = parse.GetValue(parameter) ?? [],
            AsWritten = parse.GetValue(asWritten),
        }).Outcome));
        aws.Subcommands.Add(deploy);

        var destroy = new Command("destroy", "Delete the stack and wait until every resource is gone.") { stackName, region };
        destroy.SetAction(parse => ExitCodes.For(Controller().Destroy(parse.GetValue(stackName)!, parse.GetValue(region)).Outcome));
        aws.Subcommands.Add(destroy);
        return aws;
    }
}
