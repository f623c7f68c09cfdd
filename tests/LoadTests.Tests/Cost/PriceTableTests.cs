using System.Globalization;
using System.Text.Json.Nodes;
using EgressLab.LoadTests.Cost;

namespace EgressLab.LoadTests.Tests.Cost;

public sealed class PriceTableTests
{
    private static readonly string File = RepositoryFiles.PathOf("deploy", "pricing", "aws-us-east-1.json");

    [Fact]
    public void File_HasItsDateNoticeAndACitationForEveryKindOfPrice()
    {
        var json = JsonNode.Parse(System.IO.File.ReadAllText(File))!;

        var asOf = DateOnly.ParseExact((string)json["asOf"]!, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        Assert.InRange(asOf, new DateOnly(2024, 1, 1), DateOnly.FromDateTime(DateTime.UtcNow));
        Assert.Contains("check every figure against the cited pages", (string)json["notice"]!, StringComparison.Ordinal);
        Assert.Equal("us-east-1", (string)json["region"]!);
        foreach (var key in PriceTable.CitationKeys)
        {
            Assert.StartsWith("https://aws.amazon.com/", (string)json["citations"]![key]!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Default_IsTheFileInTheRepository()
    {
        var fromFile = PriceTable.Parse(System.IO.File.ReadAllText(File));

        Assert.Equal(fromFile.AsOf, PriceTable.Default.AsOf);
        Assert.Equal(fromFile.InstanceHourly, PriceTable.Default.InstanceHourly);
        Assert.Equal(0.045, PriceTable.Default.NatGateway.Hourly);
        Assert.Equal(0.045, PriceTable.Default.NatGateway.PerGigabyteProcessed);
        Assert.Equal(0.005, PriceTable.Default.PublicIpv4Hourly);
        Assert.Equal(730, PriceTable.Default.HoursPerMonth);
    }

    [Fact]
    public void Parse_UndatedUncitedTable_ListsEveryProblem()
    {
        var json = JsonNode.Parse(System.IO.File.ReadAllText(File))!.AsObject();
        json["asOf"] = "June 2025";
        json["citations"]!.AsObject().Remove("natGateway");
        json["dataTransferOut"]!["tiers"]!.AsArray().RemoveAt(3);

        var error = Assert.Throws<InvalidDataException>(() => PriceTable.Parse(json.ToJsonString()));

        Assert.Contains("asOf 'June 2025' must be the date the prices were read, as yyyy-MM-dd.", error.Message, StringComparison.Ordinal);
        Assert.Contains("citations.natGateway must be the https://aws.amazon.com/ pricing page", error.Message, StringComparison.Ordinal);
        Assert.Contains("end with a tier whose upToGigabytes is null", error.Message, StringComparison.Ordinal);
    }
}
