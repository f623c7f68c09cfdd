using System.CommandLine;
using System.Globalization;
using EgressLab.LoadTests.Cost;

namespace EgressLab.LoadTests.Cli;

/// <summary>
/// The options that price the paths in a report, shared by <c>compare</c> and <c>report</c>: <c>--traffic</c> turns
/// the costs on, the others say what each design runs (their defaults are <see cref="CostAssumptions"/>').
/// </summary>
internal sealed class CostSettings
{
    private readonly Option<string?> _traffic = new("--traffic")
    {
        Description = $"The traffic one egress path carries in a month, for the report's monthly cost per path: {TrafficVolume.Forms}. "
            + $"Priced from {PriceTable.RepositoryPath}. Without it the report shows no costs.",
    };

    private readonly Option<string?> _natInstanceType = new("--nat-instance-type") { Description = "The NAT instance's type, for costs. The default is t3.micro (the template's)." };
    private readonly Option<string?> _natInstances = new("--nat-instances")
    {
        Description = "NAT instances kept running, for costs: 2 for an active and a standby. The default is 1.",
    };

    private readonly Option<string?> _proxyInstanceType = new("--proxy-instance-type") { Description = "Each proxy's type, for costs. The default is t3.small (the template's)." };
    private readonly Option<string?> _proxyInstances = new("--proxy-instances")
    {
        Description = "Proxies in the fleet, for costs; above 1 they sit behind a Network Load Balancer. The default is 2.",
    };

    private readonly Option<string?> _workloadInstances = new("--workload-instances")
    {
        Description = "Instances that send traffic out, for costs: on the L3 path each needs a public IPv4 address. The default is 2.",
    };

    public void AddTo(Command command)
    {
        foreach (var option in new[] { _traffic, _natInstanceType, _natInstances, _proxyInstanceType, _proxyInstances, _workloadInstances })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The estimate the options ask for, or null without <c>--traffic</c>; problems are added to <paramref name="problems"/>.</summary>
    public CostEstimate? Read(ParseResult parse, List<string> problems) => Read(
        parse.GetValue(_traffic),
        parse.GetValue(_natInstanceType),
        parse.GetValue(_natInstances),
        parse.GetValue(_proxyInstanceType),
        parse.GetValue(_proxyInstances),
        parse.GetValue(_workloadInstances),
        problems);

    public static CostEstimate? Read(string? traffic, string? natInstanceType, string? natInstances, string? proxyInstanceType, string? proxyInstances, string? workloadInstances, List<string> problems)
    {
        if (traffic is null)
        {
            if ((natInstanceType ?? natInstances ?? proxyInstanceType ?? proxyInstances ?? workloadInstances) is not null)
            {
                problems.Add("the cost options price a traffic volume: add --traffic, such as --traffic 2TB/month.");
            }

            return null;
        }

        if (!TrafficVolume.TryParse(traffic, out var volume, out var problem))
        {
            problems.Add(problem);
            return null;
        }

        var defaults = new CostAssumptions(volume);
        var assumptions = defaults with
        {
            NatInstanceType = natInstanceType ?? defaults.NatInstanceType,
            NatInstances = Count(natInstances, "--nat-instances", defaults.NatInstances, 10, problems),
            ProxyInstanceType = proxyInstanceType ?? defaults.ProxyInstanceType,
            ProxyInstances = Count(proxyInstances, "--proxy-instances", defaults.ProxyInstances, 100, problems),
            WorkloadInstances = Count(workloadInstances, "--workload-instances", defaults.WorkloadInstances, 10_000, problems),
        };
        var prices = PriceTable.Default;
        var unpriced = CostModel.Check(prices, assumptions);
        problems.AddRange(unpriced);
        return unpriced.Count == 0 ? CostModel.Estimate(prices, assumptions) : null;
    }

    private static int Count(string? text, string option, int fallback, int most, List<string> problems)
    {
        if (text is null)
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 && value <= most)
        {
            return value;
        }

        problems.Add($"{option} '{text}' must be a whole number from 1 to {most.ToString("#,0", CultureInfo.InvariantCulture)}.");
        return fallback;
    }
}
