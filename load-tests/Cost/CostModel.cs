using System.Globalization;

namespace EgressLab.LoadTests.Cost;

/// <summary>
/// The monthly cost of each egress design from a price table: pure arithmetic, every line with its working, so a
/// reader can check it by hand. A month is the table's hoursPerMonth (730, as AWS prices it). The account-wide free
/// 100 GB of data transfer out is not deducted: an account's other traffic usually uses it up, and it is the same
/// for every design.
/// </summary>
internal static class CostModel
{
    public static CostEstimate Estimate(PriceTable prices, CostAssumptions assumptions)
    {
        var designs = EgressDesigns.All.Select(d => new DesignCost(d, Lines(prices, assumptions, d))).ToList();
        return new CostEstimate(prices, assumptions, designs, BreakEvenOf(prices, assumptions.NatInstanceType, assumptions.NatInstances));
    }

    /// <summary>Every problem with the assumptions against the table, each saying how to fix it.</summary>
    public static IReadOnlyList<string> Check(PriceTable prices, CostAssumptions assumptions)
    {
        var problems = new List<string>();
        foreach (var (option, type) in new[] { ("--nat-instance-type", assumptions.NatInstanceType), ("--proxy-instance-type", assumptions.ProxyInstanceType) })
        {
            if (!prices.TryGetInstanceHourly(type, out _))
            {
                problems.Add($"{option} '{type}' has no price in {PriceTable.RepositoryPath}: choose from {string.Join(", ", prices.InstanceHourly.Keys.Order(StringComparer.Ordinal))}, or add its hourly price there (with the page it comes from).");
            }
        }

        return problems;
    }

    /// <summary>Data transfer out to the internet for a month's volume, tier by tier.</summary>
    public static double DataTransferOut(PriceTable prices, double gigabytes) =>
        Tiered(prices, gigabytes).Sum(t => t.Gigabytes * t.PerGigabyte);

    /// <summary>What <paramref name="count"/> NAT instances cost in a month whatever the traffic: the instance hours,
    /// root volumes, and the public IPv4 address (Elastic IP) each holds.</summary>
    public static double NatInstancesFixed(PriceTable prices, string type, int count) =>
        NatInstanceLines(prices, type, count).Sum(l => l.Monthly);

    public static BreakEven BreakEvenOf(PriceTable prices, string natInstanceType, int natInstances)
    {
        var gateway = GatewayFixedLines(prices).Sum(l => l.Monthly);
        var instances = NatInstancesFixed(prices, natInstanceType, natInstances);
        var perGigabyte = prices.NatGateway.PerGigabyteProcessed;
        double? gigabytes = instances > gateway ? (instances - gateway) / perGigabyte : null;
        return new BreakEven(gateway, perGigabyte, instances, natInstanceType, natInstances, gigabytes);
    }

    private static List<CostLine> Lines(PriceTable prices, CostAssumptions assumptions, EgressDesign design)
    {
        var gigabytes = assumptions.Traffic.Gigabytes;
        var hours = prices.HoursPerMonth;
        var lines = new List<CostLine>();
        switch (design)
        {
            case EgressDesign.InternetGateway:
                lines.Add(new CostLine(
                    $"public IPv4 address on each of {assumptions.WorkloadInstances} instances",
                    $"{assumptions.WorkloadInstances} × {N(hours)} h × {Usd(prices.PublicIpv4Hourly)}",
                    assumptions.WorkloadInstances * hours * prices.PublicIpv4Hourly));
                break;
            case EgressDesign.NatInstance:
                lines.AddRange(NatInstanceLines(prices, assumptions.NatInstanceType, assumptions.NatInstances));
                break;
            case EgressDesign.NatGateway:
                lines.AddRange(GatewayFixedLines(prices));
                lines.Add(new CostLine("NAT gateway data processed", $"{N(gigabytes)} GB × {Usd(prices.NatGateway.PerGigabyteProcessed)}", gigabytes * prices.NatGateway.PerGigabyteProcessed));
                break;
            default:
                var proxies = assumptions.ProxyInstances;
                prices.TryGetInstanceHourly(assumptions.ProxyInstanceType, out var proxyHourly);
                lines.Add(new CostLine($"{proxies} × {assumptions.ProxyInstanceType} proxy", $"{proxies} × {N(hours)} h × {Usd(proxyHourly)}", proxies * hours * proxyHourly));
                lines.Add(RootVolumes(prices, proxies, "proxy"));
                if (proxies > 1)
                {
                    var balancer = prices.NetworkLoadBalancer;
                    lines.Add(new CostLine("Network Load Balancer", $"{N(hours)} h × {Usd(balancer.Hourly)}", hours * balancer.Hourly));
                    var nlcuHours = gigabytes / balancer.GigabytesPerNlcuHour;
                    lines.Add(new CostLine("NLB capacity units (bytes processed)", $"{N(nlcuHours)} NLCU-h × {Usd(balancer.PerNlcuHour)}", nlcuHours * balancer.PerNlcuHour));
                }

                lines.AddRange(NatInstanceLines(prices, assumptions.NatInstanceType, assumptions.NatInstances)
                    .Select(l => l with { Item = l.Item + " (the fleet leaves through it)" }));
                break;
        }

        lines.Add(new CostLine("data transfer out to the internet", DataTransferWorking(prices, gigabytes), DataTransferOut(prices, gigabytes)));
        return lines;
    }

    private static List<CostLine> NatInstanceLines(PriceTable prices, string type, int count)
    {
        var hours = prices.HoursPerMonth;
        prices.TryGetInstanceHourly(type, out var hourly);
        return
        [
            new CostLine($"{count} × {type} NAT instance", $"{count} × {N(hours)} h × {Usd(hourly)}", count * hours * hourly),
            RootVolumes(prices, count, "NAT instance"),
            new CostLine($"{count} × NAT instance public IPv4 (Elastic IP)", $"{count} × {N(hours)} h × {Usd(prices.PublicIpv4Hourly)}", count * hours * prices.PublicIpv4Hourly),
        ];
    }

    private static List<CostLine> GatewayFixedLines(PriceTable prices)
    {
        var hours = prices.HoursPerMonth;
        return
        [
            new CostLine("NAT gateway hours", $"{N(hours)} h × {Usd(prices.NatGateway.Hourly)}", hours * prices.NatGateway.Hourly),
            new CostLine("NAT gateway public IPv4 (Elastic IP)", $"{N(hours)} h × {Usd(prices.PublicIpv4Hourly)}", hours * prices.PublicIpv4Hourly),
        ];
    }

    private static CostLine RootVolumes(PriceTable prices, int count, string role) => new(
        $"{count} × {role} root volume",
        $"{count} × {N(prices.RootVolume.Gigabytes)} GB × {Usd(prices.RootVolume.PerGigabyteMonth)}",
        count * prices.RootVolume.Gigabytes * prices.RootVolume.PerGigabyteMonth);

    private static string DataTransferWorking(PriceTable prices, double gigabytes)
    {
        var parts = Tiered(prices, gigabytes).Select(t => $"{N(t.Gigabytes)} GB × {Usd(t.PerGigabyte)}").ToList();
        return parts.Count == 0 ? "0 GB" : string.Join(" + ", parts);
    }

    // The month's volume split over the tiers it reaches.
    private static IEnumerable<(double Gigabytes, double PerGigabyte)> Tiered(PriceTable prices, double gigabytes)
    {
        double below = 0;
        foreach (var tier in prices.DataTransferOut.Tiers)
        {
            var top = tier.UpToGigabytes ?? double.PositiveInfinity;
            var inTier = Math.Min(gigabytes, top) - below;
            if (inTier <= 0)
            {
                yield break;
            }

            yield return (inTier, tier.PerGigabyte);
            below = top;
        }
    }

    private static string N(double value) => value.ToString("#,0.##", CultureInfo.InvariantCulture);

    private static string Usd(double price) => "$" + price.ToString("0.0###", CultureInfo.InvariantCulture);
}
