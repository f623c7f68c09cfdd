using EgressLab.LoadTests.Measurement;

namespace EgressLab.LoadTests.Tests.Measurement;

/// <summary>Time without egress and connections lost, from synthetic timelines of new connections.</summary>
public sealed class EgressOutageTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>A new connection every 250 ms for <paramref name="seconds"/>; those starting in [down, up) fail after a 1 s timeout.</summary>
    private static List<ConnectionAttempt> Timeline(double seconds, double? down, double? up)
    {
        var attempts = new List<ConnectionAttempt>();
        for (var start = TimeSpan.Zero; start < TimeSpan.FromSeconds(seconds); start += Interval)
        {
            var failed = down is { } d && start >= TimeSpan.FromSeconds(d) && (up is not { } u || start < TimeSpan.FromSeconds(u));
            attempts.Add(new ConnectionAttempt(start, start + (failed ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(3)), !failed));
        }

        return attempts;
    }

    [Fact]
    public void Measure_OutageFromFiveToTenSeconds_IsFirstFailureToFirstSuccessAfterIt()
    {
        var outage = EgressOutage.Measure(Timeline(20, 5, 10.25), [true, false, false]);

        Assert.Equal(TimeSpan.FromSeconds(5), outage.FirstFailure);
        Assert.Equal(TimeSpan.FromSeconds(10.25), outage.Recovery);
        Assert.Equal(TimeSpan.FromSeconds(5.25), outage.TimeWithoutEgress);
        Assert.True(outage.Recovered);
        Assert.Equal(80, outage.Attempts);
        Assert.Equal(21, outage.Failed);
        Assert.Equal(3, outage.Held);
        Assert.Equal(2, outage.HeldLost);
    }

    [Fact]
    public void Measure_NoFailure_IsZeroAndRecovered()
    {
        var outage = EgressOutage.Measure(Timeline(10, null, null), [true, true]);

        Assert.Equal(TimeSpan.Zero, outage.TimeWithoutEgress);
        Assert.Null(outage.FirstFailure);
        Assert.True(outage.Recovered);
        Assert.Equal(0, outage.Failed);
        Assert.Equal(0, outage.HeldLost);
    }

    [Fact]
    public void Measure_NeverRecovered_HasNoTimeWithoutEgress()
    {
        var outage = EgressOutage.Measure(Timeline(10, 4, null), []);

        Assert.Equal(TimeSpan.FromSeconds(4), outage.FirstFailure);
        Assert.Null(outage.Recovery);
        Assert.Null(outage.TimeWithoutEgress);
        Assert.False(outage.Recovered);
        Assert.Equal(24, outage.Failed);
    }

    [Fact]
    public void Measure_AttemptsRecordedOutOfOrder_AreTakenByStartTime()
    {
        var attempts = Timeline(20, 5, 10.25);
        attempts.Reverse();

        var outage = EgressOutage.Measure(attempts, []);

        Assert.Equal(TimeSpan.FromSeconds(5.25), outage.TimeWithoutEgress);
    }

    [Fact]
    public void Measure_SuccessThatStartedBeforeTheFirstFailureButEndedAfterIt_DoesNotEndTheOutage()
    {
        // An attempt in flight when the NAT died can still be answered; only one that starts later shows recovery.
        List<ConnectionAttempt> attempts =
        [
            new(TimeSpan.FromSeconds(4.9), TimeSpan.FromSeconds(5.2), true),
            new(TimeSpan.FromSeconds(5.0), TimeSpan.FromSeconds(6.0), false),
            new(TimeSpan.FromSeconds(7.0), TimeSpan.FromSeconds(7.1), true),
        ];

        var outage = EgressOutage.Measure(attempts, []);

        Assert.Equal(TimeSpan.FromSeconds(2), outage.TimeWithoutEgress);
    }
}
