using EgressLab.LoadTests.Cost;

namespace EgressLab.LoadTests.Tests.Cost;

/// <summary>
/// Costs worked out by hand from the price table (730 h a month; t3.micro $0.0104/h, t3.small $0.0208/h, c7gn.medium
/// $0.0624/h; public IPv4 $0.005/h; 8 GB root volume at $0.08/GB-month = $0.64; NAT gateway $0.045/h and $0.045/GB;
/// NLB $0.0225/h and $0.006/NLCU-h at 1 GB per NLCU-h; data out $0.09/GB for the first 10 TB, $0.085 to 50 TB,
/// $0.07 to 150 TB, $0.05 above).
/// </summary>
public sealed class CostModelTests
{
    private static readonly PriceTable Prices = PriceTable.Default;

    private static CostEstimate Estimate(double gigabytes, Func<CostAssumptions, CostAssumptions>? change = null)
    {
        var assumptions = new CostAssumptions(new TrafficVolume(gigabytes, $"{gigabytes} GB/month"));
        return CostModel.Estimate(Prices, change is null ? assumptions : change(assumptions));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(2000, 180)] // 2,000 × 0.09
    [InlineData(10000, 900)] // the whole first tier
    [InlineData(60000, 5000)] // 10,000 × 0.09 + 40,000 × 0.085 + 10,000 × 0.07 = 900 + 3,400 + 700
    [InlineData(200000, 13800)] // 900 + 3,400 + 100,000 × 0.07 + 50,000 × 0.05 = 900 + 3,400 + 7,000 + 2,500
    public void DataTransferOut_Tiers_AddUpTierByTier(double gigabytes, double expected)
    {
        Assert.Equal(expected, CostModel.DataTransferOut(Prices, gigabytes), 6);
    }

    [Fact]
    public void Estimate_TwoTerabytesWithTheDefaults_MatchesTheHandWorkedTotals()
    {
        var cost = Estimate(2000);

        // 2 workload instances × 730 × 0.005 = 7.30, + 180 data out.
        Assert.Equal(187.30, cost.Of(EgressDesign.InternetGateway).Monthly, 6);

        // t3.micro 730 × 0.0104 = 7.592, root volume 0.64, Elastic IP 730 × 0.005 = 3.65, + 180.
        Assert.Equal(191.882, cost.Of(EgressDesign.NatInstance).Monthly, 6);

        // 730 × 0.045 = 32.85 hours, 2,000 × 0.045 = 90 processed, Elastic IP 3.65, + 180.
        Assert.Equal(306.50, cost.Of(EgressDesign.NatGateway).Monthly, 6);

        // 2 × t3.small 2 × 730 × 0.0208 = 30.368, 2 root volumes 1.28, NLB 730 × 0.0225 = 16.425, 2,000 NLCU-h × 0.006
        // = 12, the NAT instance it leaves through 11.882, + 180.
        Assert.Equal(251.955, cost.Of(EgressDesign.ProxyFleet).Monthly, 6);
    }

    [Fact]
    public void Estimate_OneProxy_HasNoLoadBalancer()
    {
        var cost = Estimate(2000, a => a with { ProxyInstances = 1 });

        var fleet = cost.Of(EgressDesign.ProxyFleet);
        Assert.DoesNotContain(fleet.Lines, l => l.Item.Contains("Load Balancer", StringComparison.Ordinal) || l.Item.Contains("NLB", StringComparison.Ordinal));

        // 730 × 0.0208 = 15.184, root 0.64, NAT instance 11.882, + 180.
        Assert.Equal(207.706, fleet.Monthly, 6);
    }

    [Fact]
    public void Estimate_EveryLine_ShowsItsWorking()
    {
        var cost = Estimate(60000);

        var dataOut = cost.Of(EgressDesign.NatGateway).Lines.Single(l => l.Item == "data transfer out to the internet");
        Assert.Equal("10,000 GB × $0.09 + 40,000 GB × $0.085 + 10,000 GB × $0.07", dataOut.Working);
        var hours = cost.Of(EgressDesign.NatInstance).Lines[0];
        Assert.Equal("1 × t3.micro NAT instance", hours.Item);
        Assert.Equal("1 × 730 h × $0.0104", hours.Working);
    }

    [Fact]
    public void BreakEven_SmallInstance_CostsLessAtEveryVolume()
    {
        var breakEven = CostModel.BreakEvenOf(Prices, "t3.micro", 2);

        // Gateway 32.85 + 3.65 = 36.50 fixed; two t3.micro 2 × 11.882 = 23.764.
        Assert.Equal(36.50, breakEven.GatewayFixed, 6);
        Assert.Equal(23.764, breakEven.InstancesFixed, 6);
        Assert.Null(breakEven.Gigabytes);
    }

    [Fact]
    public void BreakEven_TwoLargeInstances_IsWhereTheGatewaysProcessingChargeMakesUpTheDifference()
    {
        var breakEven = CostModel.BreakEvenOf(Prices, "c7gn.medium", 2);

        // Two c7gn.medium: 2 × (730 × 0.0624 + 0.64 + 3.65) = 2 × 49.842 = 99.684; (99.684 − 36.50) / 0.045 = 1,404.0889 GB.
        Assert.Equal(99.684, breakEven.InstancesFixed, 6);
        Assert.Equal(1404.0889, breakEven.Gigabytes!.Value, 3);

        // And there the two really cost the same.
        var cost = Estimate(breakEven.Gigabytes.Value, a => a with { NatInstanceType = "c7gn.medium", NatInstances = 2 });
        Assert.Equal(cost.Of(EgressDesign.NatGateway).Monthly, cost.Of(EgressDesign.NatInstance).Monthly, 6);
    }

    [Fact]
    public void Check_UnpricedInstanceType_SaysWhichTypesHavePricesAndWhereToAddOne()
    {
        var problems = CostModel.Check(Prices, new CostAssumptions(default) { NatInstanceType = "x9.huge" });

        var problem = Assert.Single(problems);
        Assert.StartsWith("--nat-instance-type 'x9.huge' has no price in deploy/pricing/aws-us-east-1.json: choose from ", problem, StringComparison.Ordinal);
        Assert.Contains("t4g.nano", problem, StringComparison.Ordinal);
        Assert.Contains("or add its hourly price there", problem, StringComparison.Ordinal);
    }
}
