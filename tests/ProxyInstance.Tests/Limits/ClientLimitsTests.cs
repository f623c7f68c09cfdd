using System.Net;
using EgressLab.ProxyInstance.Limits;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Limits;

public sealed class ClientLimitsTests
{
    private static readonly IPAddress A = IPAddress.Parse("10.10.2.101");
    private static readonly IPAddress B = IPAddress.Parse("10.10.2.102");

    [Fact]
    public void TryTakeRequest_BurstThenEmpty_RefusesWithTheWaitForTheNextToken()
    {
        var clock = new ManualClock();
        var limits = new ClientLimits(clock);
        var rate = new RequestRate(PerSecond: 2, Burst: 3);

        Assert.True(limits.TryTakeRequest(A, rate, out _));
        Assert.True(limits.TryTakeRequest(A, rate, out _));
        Assert.True(limits.TryTakeRequest(A, rate, out _));
        Assert.False(limits.TryTakeRequest(A, rate, out var wait));
        Assert.Equal(TimeSpan.FromMilliseconds(500), wait);

        clock.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(limits.TryTakeRequest(A, rate, out wait));
        Assert.True(wait > TimeSpan.Zero && wait <= TimeSpan.FromMilliseconds(1), $"{wait}");
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(limits.TryTakeRequest(A, rate, out _));
        Assert.False(limits.TryTakeRequest(A, rate, out _));
    }

    [Fact]
    public void TryTakeRequest_LongIdle_RefillsOnlyUpToTheBurst()
    {
        var clock = new ManualClock();
        var limits = new ClientLimits(clock);
        var rate = new RequestRate(PerSecond: 10, Burst: 2);
        Assert.True(limits.TryTakeRequest(A, rate, out _));

        clock.Advance(TimeSpan.FromHours(1));

        Assert.True(limits.TryTakeRequest(A, rate, out _));
        Assert.True(limits.TryTakeRequest(A, rate, out _));
        Assert.False(limits.TryTakeRequest(A, rate, out _));
    }

    [Fact]
    public void TryTakeRequest_EachClientHasItsOwnBucket()
    {
        var limits = new ClientLimits(new ManualClock());
        var rate = new RequestRate(PerSecond: 1, Burst: 1);

        Assert.True(limits.TryTakeRequest(A, rate, out _));
        Assert.False(limits.TryTakeRequest(A, rate, out _));
        Assert.True(limits.TryTakeRequest(B, rate, out _));
    }

    [Fact]
    public void TryTakeRequest_NoRate_NeverRefuses()
    {
        var limits = new ClientLimits(new ManualClock());
        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(limits.TryTakeRequest(A, null, out _));
        }
    }

    [Fact]
    public void TryTakeRequest_BurstLoweredOnReload_AppliesAtOnce()
    {
        var limits = new ClientLimits(new ManualClock());
        Assert.True(limits.TryTakeRequest(A, new RequestRate(1, 100), out _));

        var lowered = new RequestRate(1, 1);
        Assert.True(limits.TryTakeRequest(A, lowered, out _));
        Assert.False(limits.TryTakeRequest(A, lowered, out _));
    }

    [Fact]
    public void TryTakeRequest_ConcurrentClients_NeverGrantMoreThanTheBurst()
    {
        var limits = new ClientLimits(new ManualClock());
        var rate = new RequestRate(PerSecond: 1, Burst: 50);
        var granted = 0;

        Parallel.For(0, 2000, i =>
        {
            if (limits.TryTakeRequest(A, rate, out _))
            {
                Interlocked.Increment(ref granted);
            }
        });

        Assert.Equal(50, granted);
    }

    [Fact]
    public void TryOpenTunnel_UpToTheLimit_ThenRefusesUntilOneCloses()
    {
        var limits = new ClientLimits(new ManualClock());

        Assert.True(limits.TryOpenTunnel(A, 2));
        Assert.True(limits.TryOpenTunnel(A, 2));
        Assert.False(limits.TryOpenTunnel(A, 2));
        Assert.True(limits.TryOpenTunnel(B, 2));
        Assert.Equal(2, limits.TunnelsOf(A));

        limits.CloseTunnel(A);
        Assert.True(limits.TryOpenTunnel(A, 2));
    }

    [Fact]
    public void CloseTunnel_LastOne_ForgetsTheClient()
    {
        var limits = new ClientLimits(new ManualClock());
        Assert.True(limits.TryOpenTunnel(A, null));
        Assert.True(limits.TryOpenTunnel(A, null));

        limits.CloseTunnel(A);
        limits.CloseTunnel(A);

        Assert.Equal(0, limits.TunnelsOf(A));
        Assert.True(limits.TryOpenTunnel(A, 1));
    }

    [Fact]
    public void TryOpenTunnel_Concurrent_NeverOvershootsAndCountsBackToZero()
    {
        // Every attempt holds what it got until all have tried, released together by a barrier so they race: exactly
        // the limit may succeed. (Counting a peak of tunnels opened and closed again one by one cannot fail on two
        // cores, where rarely more than two are open at once.)
        const int Threads = 32;
        const int Limit = 8;
        for (var round = 0; round < 20; round++)
        {
            var limits = new ClientLimits(new ManualClock());
            using var start = new Barrier(Threads);
            var granted = 0;
            var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                if (limits.TryOpenTunnel(A, Limit))
                {
                    Interlocked.Increment(ref granted);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(20)), "a thread did not finish"));

            Assert.Equal(Limit, granted);
            Assert.Equal(Limit, limits.TunnelsOf(A));
            Parallel.For(0, Limit, _ => limits.CloseTunnel(A));
            Assert.Equal(0, limits.TunnelsOf(A));
        }
    }

    [Fact]
    public void OpenConnection_PastTheLimit_SaysSoAndCountsEveryConnection()
    {
        var limits = new ClientLimits(new ManualClock());

        Assert.True(limits.OpenConnection(2));
        Assert.True(limits.OpenConnection(2));
        Assert.False(limits.OpenConnection(2));
        Assert.Equal(3, limits.Connections);

        limits.CloseConnection();
        limits.CloseConnection();
        Assert.True(limits.OpenConnection(2));
    }
}
