namespace EgressLab.LoadTests.Cost;

/// <summary>One charge of a design in a month: what it is, how it was worked out, and the dollars.</summary>
internal sealed record CostLine(string Item, string Working, double Monthly);

/// <summary>A design's monthly cost, line by line.</summary>
internal sealed record DesignCost(EgressDesign Design, IReadOnlyList<CostLine> Lines)
{
    public double Monthly => Lines.Sum(l => l.Monthly);
}

/// <summary>
/// Where the NAT gateway and the NAT instance(s) cost the same. Data transfer out is the same on both and cancels:
/// the gateway costs <see cref="GatewayFixed"/> plus its processing charge per GB, the instances a fixed
/// <see cref="InstancesFixed"/> whatever passes through them (until their bandwidth runs out).
/// </summary>
/// <param name="Gigabytes">The monthly volume where they are equal; null when the instances cost less at every volume.</param>
internal sealed record BreakEven(double GatewayFixed, double GatewayPerGigabyte, double InstancesFixed, string InstanceType, int Instances, double? Gigabytes);

/// <summary>Every design priced for one set of assumptions, with the table the prices came from.</summary>
internal sealed record CostEstimate(PriceTable Prices, CostAssumptions Assumptions, IReadOnlyList<DesignCost> Designs, BreakEven BreakEven)
{
    public DesignCost Of(EgressDesign design) => Designs.Single(d => d.Design == design);
}
