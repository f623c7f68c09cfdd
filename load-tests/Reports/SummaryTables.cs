using EgressLab.LoadTests.Cost;
using EgressLab.LoadTests.Results;
using F = EgressLab.LoadTests.Reports.ReportFormat;

namespace EgressLab.LoadTests.Reports;

/// <summary>
/// What a person reads first, as plain text for both report formats: the verdict (one row per path: latency,
/// throughput, allowlisting, the address the destination sees, failover, cost) and the monthly cost per design with
/// its working and the NAT gateway / NAT instance break-even.
/// </summary>
internal static class SummaryTables
{
    /// <summary>The scenario whose latency the verdict shows, when it was measured: a small HTTPS request is what most
    /// egress traffic is. Otherwise the first scenario measured.</summary>
    public const string LatencyScenario = "https-small";

    /// <summary>The scenario whose throughput the verdict shows, when it was measured.</summary>
    public const string ThroughputScenario = "bulk";

    private static readonly Dictionary<EgressDesign, string> Failover = new()
    {
        [EgressDesign.InternetGateway] = "none needed: the IGW is managed and redundant; each instance keeps its own address",
        [EgressDesign.NatInstance] = "a single instance: egress stops until it is replaced, or until a standby takes over the route",
        [EgressDesign.NatGateway] = "managed, redundant within its Availability Zone",
        [EgressDesign.ProxyFleet] = "the NLB's health checks take a failed proxy out; its open tunnels drop; still leaves through the NAT instance",
    };

    public static string VerdictDescription(CompareSummary summary, CostEstimate? cost)
    {
        var latency = LatencySection(summary)?.Scenario;
        var throughput = summary.Scenarios.Any(s => s.Scenario == ThroughputScenario) ? $"{ThroughputScenario} MB/s" : "not measured (no bulk scenario)";
        var costs = cost is null
            ? "Cost: give --traffic (such as --traffic 2TB/month) to price each path."
            : $"Cost: per month at {cost.Assumptions.Traffic.Text}, from the price table of {cost.Prices.AsOf} (see Monthly cost).";
        return $"One row per path. Latency: {latency ?? "not measured"}, corrected, median of the rounds. Throughput: {throughput}. "
            + (summary.Results.NatFailure is { } failure
                ? $"Failover: what the design does when its device fails, as AWS documents it, then what this run measured when it {(failure.Mode == "kill" ? "killed" : "stopped forwarding on")} the NAT instance (see NAT instance failure). {costs}"
                : $"Failover: what the design does when its device fails, as AWS documents it, not measured by this run (compare --nat-failure measures it). {costs}");
    }

    public static ReportTable Verdict(CompareSummary summary, CostEstimate? cost)
    {
        var latency = LatencySection(summary);
        var throughput = summary.Scenarios.FirstOrDefault(s => s.Scenario == ThroughputScenario);
        return new ReportTable(
            [
                new("path", "Path"), new("p50", "p50 ms", true), new("p99", "p99 ms", true), new("mbps", "MB/s", true),
                new("allowlist", "Allowlist by name"), new("seen-source", "Destination sees"), new("failover", "Failover"),
                new("cost", "Cost / month", true),
            ],
            summary.Results.Paths.Select(path =>
            {
                var figures = latency?.Paths.First(p => p.Path == path).Figures;
                var bulk = throughput?.Paths.First(p => p.Path == path).Figures;
                var design = EgressDesigns.Of(path);
                return new ReportRow(path.Id,
                [
                    ReportTables.PathLabel(path),
                    figures is null ? F.Missing : F.Milliseconds(figures.P50.Median),
                    figures is null ? F.Missing : F.Milliseconds(figures.P99.Median),
                    bulk is null ? F.Missing : F.Throughput(bulk.ThroughputMBps.Median),
                    F.YesNo(path.ApplicationAllowlist),
                    SeenBy(path, design),
                    FailoverCell(design, summary.Results.NatFailure?.Paths.FirstOrDefault(o => o.PathId == path.Id)),
                    cost is not null && design is { } priced ? F.Usd(cost.Of(priced).Monthly) : F.Missing,
                ]);
            }).ToList());
    }

    /// <summary>The documented behaviour, then the outage this run measured on the path when it failed the NAT instance.</summary>
    internal static string FailoverCell(EgressDesign? design, PathOutage? outage)
    {
        var documented = design is { } d ? Failover[d] : F.Missing;
        if (outage is null)
        {
            return documented;
        }

        var time = outage.TimeWithoutEgressSeconds is { } seconds ? $"{F.Seconds(seconds)} without egress" : "egress did not come back";
        return $"{documented}. Measured: {time}, {outage.HeldLost} of {outage.Held} held transfers lost";
    }

    public static IReadOnlyList<string> CostAssumptions(CostEstimate cost)
    {
        var a = cost.Assumptions;
        var p = cost.Prices;
        return
        [
            $"Traffic: {a.Traffic.Text} ({F.Gigabytes(a.Traffic.Gigabytes)}) through each path, both directions, all of it priced as data transfer out to "
            + "the internet: an upper bound, since data coming in from the internet is free. The account-wide free 100 GB of data transfer out "
            + "is not deducted (other traffic usually uses it, and it is the same for every path).",
            $"Instances: {a.NatInstances} × {a.NatInstanceType} NAT instance{(a.NatInstances == 1 ? "" : "s")}, {a.ProxyInstances} × {a.ProxyInstanceType} "
            + $"prox{(a.ProxyInstances == 1 ? "y" : "ies")}{(a.ProxyInstances > 1 ? " behind a Network Load Balancer" : " (no load balancer)")}, "
            + $"{a.WorkloadInstances} workload instances (each with a public address on the L3 path). A month is {F.Count((int)p.HoursPerMonth)} hours. "
            + "Change them with --nat-instance-type, --nat-instances, --proxy-instance-type, --proxy-instances and --workload-instances.",
            $"Prices: {p.Region} on-demand, {p.Currency}, as of {p.AsOf}, from {PriceTable.RepositoryPath}, which cites the AWS pricing page of each "
            + "price. Check them against those pages before deciding: prices change.",
        ];
    }

    public static ReportTable Cost(CostEstimate cost) => new(
        [new("design", "Path"), new("charge", "Charge"), new("working", "Working"), new("monthly", "Per month", true)],
        cost.Designs.SelectMany(design =>
        {
            var id = EgressDesigns.PathId(design.Design);
            var label = $"{id}: {EgressDesigns.Title(design.Design)}";
            // The design named once, on its first line; its total closes the group.
            return design.Lines
                .Select((line, i) => new ReportRow(id, [i == 0 ? label : "", line.Item, line.Working, F.Usd(line.Monthly)]))
                .Append(new ReportRow(id, ["", "total", "", F.Usd(design.Monthly)]) { Total = true });
        }).ToList());

    /// <summary>The break-even for the chosen NAT instances, and for two when one was chosen (a standby for availability).</summary>
    public static IReadOnlyList<string> BreakEvens(CostEstimate cost)
    {
        var sentences = new List<string> { BreakEvenSentence(cost.BreakEven) };
        if (cost.Assumptions.NatInstances == 1)
        {
            var standby = BreakEvenSentence(CostModel.BreakEvenOf(cost.Prices, cost.Assumptions.NatInstanceType, 2));
            sentences.Add("With a standby for availability (--nat-instances 2): " + (standby.StartsWith("The ", StringComparison.Ordinal) ? "the" + standby[3..] : standby));
        }

        sentences.Add("A NAT instance's cost does not grow with traffic only while its network bandwidth carries the peak: pick a type that does.");
        return sentences;
    }

    public static string BreakEvenSentence(BreakEven breakEven)
    {
        var instances = $"{breakEven.Instances} × {breakEven.InstanceType} NAT instance{(breakEven.Instances == 1 ? "" : "s")}";
        var fixedCosts = $"the gateway costs {F.Usd(breakEven.GatewayFixed)} a month plus {F.UnitPrice(breakEven.GatewayPerGigabyte)} per GB processed, "
            + $"the {instances} {F.Usd(breakEven.InstancesFixed)} a month whatever passes";
        return breakEven.Gigabytes is { } gigabytes
            ? $"NAT gateway and {instances} cost the same at {F.Gigabytes(gigabytes)} a month: below that the gateway costs less, above it the instances ({fixedCosts})."
            : $"The {instances} cost{(breakEven.Instances == 1 ? "s" : "")} less than a NAT gateway at every volume ({fixedCosts}).";
    }

    private static ScenarioSection? LatencySection(CompareSummary summary) =>
        summary.Scenarios.FirstOrDefault(s => s.Scenario == LatencyScenario) ?? (summary.Scenarios.Count > 0 ? summary.Scenarios[0] : null);

    // The measured address, and what it belongs to.
    private static string SeenBy(EgressPath path, EgressDesign? design)
    {
        var owner = design switch
        {
            EgressDesign.InternetGateway => "the instance's own public address",
            EgressDesign.NatInstance => "the NAT instance's address, shared by the subnet",
            EgressDesign.NatGateway => "the NAT gateway's address, shared by the subnet",
            EgressDesign.ProxyFleet => "the address the proxy leaves through, shared by the fleet",
            _ => null,
        };
        var seen = string.IsNullOrEmpty(path.SeenSource) ? F.Missing : path.SeenSource;
        return owner is null ? seen : $"{seen} ({owner})";
    }
}
