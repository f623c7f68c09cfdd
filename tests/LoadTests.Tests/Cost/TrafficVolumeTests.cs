using EgressLab.LoadTests.Cost;

namespace EgressLab.LoadTests.Tests.Cost;

public sealed class TrafficVolumeTests
{
    [Theory]
    [InlineData("2TB/month", 2000, "2 TB/month")]
    [InlineData("2 TB/month", 2000, "2 TB/month")]
    [InlineData("500GB/month", 500, "500 GB/month")]
    [InlineData("500GB", 500, "500 GB/month")]
    [InlineData("1.5 TB / Month", 1500, "1.5 TB/month")]
    [InlineData("1GiB/month", 1.073741824, "1 GiB/month")]
    [InlineData("1TiB/month", 1099.511627776, "1 TiB/month")]
    [InlineData("0GB/month", 0, "0 GB/month")]
    public void TryParse_AcceptedForms_GiveDecimalGigabytes(string text, double gigabytes, string shown)
    {
        Assert.True(TrafficVolume.TryParse(text, out var volume, out var problem), problem);

        Assert.Equal(gigabytes, volume.Gigabytes, 9);
        Assert.Equal(shown, volume.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("2")]
    [InlineData("TB/month")]
    [InlineData("2PB/month")]
    [InlineData("2Tb/month")]
    [InlineData("2 tb")]
    [InlineData("-2TB/month")]
    [InlineData("2,5TB/month")]
    [InlineData("2TB/week")]
    [InlineData("2TB/month extra")]
    [InlineData("NaNTB")]
    public void TryParse_BadInput_SaysTheAcceptedForm(string text)
    {
        Assert.False(TrafficVolume.TryParse(text, out _, out var problem));

        Assert.Equal($"--traffic '{text}' is not a monthly volume: use {TrafficVolume.Forms}.", problem);
        Assert.Contains("GB, TB, GiB or TiB", problem, StringComparison.Ordinal);
        Assert.Contains("2TB/month", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_MoreThanAMillionTerabytes_IsRefusedWithTheLimit()
    {
        Assert.False(TrafficVolume.TryParse("2000000TB/month", out _, out var problem));

        Assert.Contains("more than a million TB a month", problem, StringComparison.Ordinal);
    }
}
