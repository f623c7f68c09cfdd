using EgressLab.LoadTests.Cli;
using EgressLab.LoadTests.Load;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Tests.TestHost;

namespace EgressLab.LoadTests.Tests.Cli;

public class ProgressLineTests
{
    [Theory]
    [InlineData(false, 5, false)]
    [InlineData(false, 11, true)]
    [InlineData(true, 60, false)]
    public async Task StartIfWanted_NotATerminal_OnlyForLongRunsAndNotQuiet(bool quiet, int seconds, bool shown)
    {
        using var error = new StringWriter();

        var progress = ProgressLine.StartIfWanted(error, quiet, TimeSpan.FromSeconds(seconds));

        Assert.Equal(shown, progress is not null);
        if (progress is not null)
        {
            await progress.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Track_RunningLoad_OneLinePerSecond()
    {
        using var error = new StringWriter();
        using var operation = new FakeOperation(TimeSpan.FromMilliseconds(1));
        var runner = LoadRunner.Create(operation, new LoadPlan
        {
            Model = LoadModel.Open,
            Rate = 50,
            WarmUp = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(2300),
        });
        var progress = ProgressLine.StartIfWanted(error, quiet: false, TimeSpan.FromMinutes(1))!;
        progress.Track(runner, "step 1/1 ");

        await runner.RunAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await progress.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.InRange(lines.Length, 1, 3);
        Assert.All(lines, line => Assert.StartsWith("step 1/1 ", line, StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("measuring sent ", StringComparison.Ordinal));
    }
}
