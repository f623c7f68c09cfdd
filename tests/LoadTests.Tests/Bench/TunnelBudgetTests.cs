using EgressLab.LoadTests.Bench;

namespace EgressLab.LoadTests.Tests.Bench;

public class TunnelBudgetTests
{
    [Theory]
    // Everything fits.
    [InlineData(10_000, 1_048_576, 16, 1_048_576, 300, false, 64, 10_000)]
    [InlineData(10_000, long.MaxValue, 16, long.MaxValue, 300, false, 64, 10_000)]
    // The proxy's 20,000: (20,000 - 16 - 64) / 2 = 9,960.
    [InlineData(10_000, 20_000, 16, 20_000, 300, false, 64, 9_960)]
    // This process's 10,000: 10,000 - 300 - 64 = 9,636, below the proxy's 9,960.
    [InlineData(10_000, 20_000, 16, 10_000, 300, false, 64, 9_636)]
    // Both in one process: (20,000 - 400 - 64) / 3 = 6,512.
    [InlineData(10_000, 20_000, 400, 20_000, 400, true, 64, 6_512)]
    // Nothing left at all: none, never a negative count.
    [InlineData(100, 1_024, 1_000, 1_024, 10, false, 64, 0)]
    public void Plan_Limits_TunnelsThatFit(int requested, long proxyLimit, int proxyOpen, long clientLimit, int clientOpen, bool sameProcess, int reserve, int expected)
    {
        var budget = TunnelBudget.Plan(requested, new OpenFileUsage(proxyLimit, proxyOpen), new OpenFileUsage(clientLimit, clientOpen), sameProcess, reserve);

        Assert.Equal(requested, budget.Requested);
        Assert.Equal(expected, budget.Tunnels);
        Assert.Equal(expected == requested, budget.LimitNote is null);
    }

    [Fact]
    public void Plan_ProxyLimitBinds_NoteSaysWhoseLimitAndTheArithmetic()
    {
        var budget = TunnelBudget.Plan(10_000, new OpenFileUsage(20_000, 16), new OpenFileUsage(20_000, 300), false, 64);

        Assert.Equal("9,960 of 10,000: the proxy's open-file limit is 20,000 (ulimit -n), 2 per tunnel, with 16 already open and 64 kept spare", budget.LimitNote);
    }

    [Fact]
    public void Plan_OwnLimitBinds_NoteNamesThisProcess()
    {
        var budget = TunnelBudget.Plan(10_000, new OpenFileUsage(20_000, 16), new OpenFileUsage(10_000, 300), false, 64);

        Assert.Equal("9,636 of 10,000: this process's open-file limit is 10,000 (ulimit -n), 1 per tunnel, with 300 already open and 64 kept spare", budget.LimitNote);
    }

    [Fact]
    public void Plan_SameProcess_NoteCountsThreePerTunnel()
    {
        var budget = TunnelBudget.Plan(10_000, new OpenFileUsage(20_000, 400), new OpenFileUsage(20_000, 400), true, 64);

        Assert.Equal("6,512 of 10,000: the proxy runs in this process, whose open-file limit is 20,000 (ulimit -n), 3 per tunnel, with 400 already open and 64 kept spare", budget.LimitNote);
    }
}
