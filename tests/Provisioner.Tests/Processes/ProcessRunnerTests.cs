using System.Diagnostics;
using EgressLab.Provisioner.Processes;

namespace EgressLab.Provisioner.Tests.Processes;

public sealed class ProcessRunnerTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Fact]
    public void Run_FailingCommand_ReturnsItsCodeAndBothStreams()
    {
        var result = ProcessRunner.Run("sh", ["-c", "echo out; echo err >&2; exit 3"], Limit);

        Assert.Equal(3, result.ExitCode);
        Assert.False(result.Succeeded);
        Assert.Equal("out\n", result.Output);
        Assert.Equal("err\n", result.Error);
    }

    [Fact]
    public void Run_WithInput_FeedsItOnStandardInput()
    {
        var result = ProcessRunner.Run("cat", [], Limit, input: "table inet lab {}\n");

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal("table inet lab {}\n", result.Output);
    }

    [Fact]
    public void Run_PastItsTimeout_IsKilledAndReportsTimedOut()
    {
        var clock = Stopwatch.StartNew();

        var result = ProcessRunner.Run("sleep", ["30"], TimeSpan.FromMilliseconds(300));

        Assert.Equal(CommandResult.TimedOut, result.ExitCode);
        Assert.Contains("timed out", result.Error, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < Limit, $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task RunAsync_PastItsTimeout_IsKilledAndReportsTimedOut()
    {
        var result = await ProcessRunner.RunAsync("sleep", ["30"], TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken).WaitAsync(Limit, TestContext.Current.CancellationToken);

        Assert.Equal(CommandResult.TimedOut, result.ExitCode);
    }

    [Fact]
    public async Task RunAsync_Cancelled_KillsAndThrows()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ProcessRunner.RunAsync("sleep", ["30"], Limit, cancel.Token).WaitAsync(Limit, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void RunStreaming_TwoStreams_PassesEveryLineInOrderAndTheExitCode()
    {
        var output = new List<string>();
        var error = new List<string>();

        var exit = ProcessRunner.RunStreaming("sh", ["-c", "echo a; echo b >&2; echo c; exit 4"], Limit, output.Add, error.Add);

        Assert.Equal(4, exit);
        Assert.Equal(["a", "c"], output);
        Assert.Equal(["b"], error);
    }

    [Fact]
    public void RunStreaming_PastItsTimeout_ReturnsNull()
    {
        Assert.Null(ProcessRunner.RunStreaming("sleep", ["30"], TimeSpan.FromMilliseconds(300), _ => { }, _ => { }));
    }

    [Theory]
    [InlineData("plain", "ip plain")]
    [InlineData("two words", "ip 'two words'")]
    [InlineData("it's", "ip 'it'\\''s'")]
    [InlineData("", "ip ''")]
    public void Format_Argument_QuotedOnlyWhenAShellWouldNeedIt(string argument, string expected)
    {
        Assert.Equal(expected, ProcessRunner.Format("ip", [argument]));
    }
}
