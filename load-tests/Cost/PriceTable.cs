using System.Globalization;
using System.Text.Json;

namespace EgressLab.LoadTests.Cost;

/// <summary>A slice of the data-transfer-out price: every GB up to <paramref name="UpToGigabytes"/> (a running total
/// over the month; null for no upper bound) above the previous tier's bound.</summary>
internal sealed record PriceTier(double? UpToGigabytes, double PerGigabyte);

internal sealed record DataTransferOutPrices(double FreeGigabytesPerAccount, IReadOnlyList<PriceTier> Tiers);

internal sealed record NatGatewayPrices(double Hourly, double PerGigabyteProcessed);

/// <summary>NLB prices: an NLCU-hour covers <paramref name="GigabytesPerNlcuHour"/> processed in that hour (the
/// bytes dimension of TCP traffic; new and active connections are the other dimensions).</summary>
internal sealed record NetworkLoadBalancerPrices(double Hourly, double PerNlcuHour, double GigabytesPerNlcuHour);

internal sealed record RootVolumePrices(double Gigabytes, double PerGigabyteMonth);

/// <summary>
/// The prices costs are computed from: deploy/pricing/aws-us-east-1.json, built into the load tests. Dated
/// (<see cref="AsOf"/>) and cited, because prices change and every figure must be traceable to its page.
/// </summary>
internal sealed record PriceTable(
    string Region,
    string Currency,
    string AsOf,
    string Notice,
    double HoursPerMonth,
    IReadOnlyDictionary<string, string> Citations,
    IReadOnlyDictionary<string, double> InstanceHourly,
    RootVolumePrices RootVolume,
    double PublicIpv4Hourly,
    NatGatewayPrices NatGateway,
    NetworkLoadBalancerPrices NetworkLoadBalancer,
    DataTransferOutPrices DataTransferOut)
{
    /// <summary>Where the table lives in the repository, for messages and docs.</summary>
    public const string RepositoryPath = "deploy/pricing/aws-us-east-1.json";

    private const string ResourceName = "EgressLab.LoadTests.Pricing.aws-us-east-1.json";

    /// <summary>The price kinds every table must cite a page for.</summary>
    public static readonly IReadOnlyList<string> CitationKeys = ["instances", "dataTransferOut", "natGateway", "publicIpv4", "networkLoadBalancer", "rootVolume"];

    private static readonly Lazy<PriceTable> Embedded = new(LoadEmbedded);
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { AllowTrailingCommas = true };

    public static PriceTable Default => Embedded.Value;

    public static PriceTable Parse(string json)
    {
        var table = JsonSerializer.Deserialize<PriceTable>(json, JsonOptions)
            ?? throw new InvalidDataException("the price table is empty");
        var problems = table.Validate();
        return problems.Count == 0 ? table : throw new InvalidDataException($"{RepositoryPath}: {string.Join(" ", problems)}");
    }

    /// <summary>Every problem with the table at once, each saying what to fix.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!DateOnly.TryParseExact(AsOf, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            problems.Add($"asOf '{AsOf}' must be the date the prices were read, as yyyy-MM-dd.");
        }

        foreach (var key in CitationKeys)
        {
            if (Citations is null || !Citations.TryGetValue(key, out var url) || !url.StartsWith("https://aws.amazon.com/", StringComparison.Ordinal))
            {
                problems.Add($"citations.{key} must be the https://aws.amazon.com/ pricing page the {key} prices come from.");
            }
        }

        if (HoursPerMonth is < 672 or > 744)
        {
            problems.Add($"hoursPerMonth {HoursPerMonth} must be the hours AWS prices a month at (730).");
        }

        if (InstanceHourly is null || InstanceHourly.Count == 0 || InstanceHourly.Any(i => i.Value <= 0))
        {
            problems.Add("instanceHourly must give a positive hourly price for each instance type.");
        }

        double[] prices =
        [
            RootVolume?.PerGigabyteMonth ?? 0, PublicIpv4Hourly, NatGateway?.Hourly ?? 0, NatGateway?.PerGigabyteProcessed ?? 0,
            NetworkLoadBalancer?.Hourly ?? 0, NetworkLoadBalancer?.PerNlcuHour ?? 0, NetworkLoadBalancer?.GigabytesPerNlcuHour ?? 0,
        ];
        if (prices.Any(p => !(p > 0)))
        {
            problems.Add("rootVolume, publicIpv4Hourly, natGateway and networkLoadBalancer need every price above zero.");
        }

        var tiers = DataTransferOut?.Tiers ?? [];
        if (tiers.Count == 0 || tiers[^1].UpToGigabytes is not null || tiers.Any(t => t.PerGigabyte < 0)
            || tiers.Zip(tiers.Skip(1)).Any(p => p.Second.UpToGigabytes is { } next && next <= p.First.UpToGigabytes))
        {
            problems.Add("dataTransferOut.tiers must rise in upToGigabytes and end with a tier whose upToGigabytes is null.");
        }

        return problems;
    }

    public bool TryGetInstanceHourly(string type, out double hourly) => InstanceHourly.TryGetValue(type, out hourly);

    private static PriceTable LoadEmbedded()
    {
        using var stream = typeof(PriceTable).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not built into the load tests");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }
}
