using EgressLab.LoadTests.Cli;

namespace EgressLab.LoadTests.Tests.Cli;

public class DurationTextTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("20s", 20_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("0s", 0)]
    [InlineData(" 20S ", 20_000)]
    [InlineData("00:00:20", 20_000)]
    [InlineData("00:02:00.5", 120_500)]
    public void TryParse_AcceptedForm_Duration(string text, int milliseconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration));

        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("20")]
    [InlineData("5x")]
    [InlineData("-1s")]
    [InlineData("ms")]
    [InlineData("1e3s")]
    [InlineData("-00:00:01")]
    [InlineData("twenty seconds")]
    public void TryParse_OtherText_Refused(string text) => Assert.False(DurationText.TryParse(text, out _));
}
