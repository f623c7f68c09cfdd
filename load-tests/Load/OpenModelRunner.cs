using System.Diagnostics;

namespace EgressLab.LoadTests.Load;

/// <summary>
/// The open model: requests are sent at a constant rate, evenly spaced from the start (send i is due at start + i/rate),
/// each on its own, whether or not earlier ones have completed. Latency is taken from the intended send time, so a
/// server (or client) stall shows in full instead of holding back the requests that would have measured it
/// (coordinated omission).
/// </summary>
/// <remarks>
/// The schedule runs on a dedicated thread that sleeps, then yields for the last millisecond, so sends leave on time
/// even when the thread pool is busy. Each send is handed to the thread pool; it is late when it starts running there
/// more than <see cref="LoadPlan.LatenessBound"/> after its intended time. A send due while
/// <see cref="LoadPlan.MaxInFlight"/> requests are outstanding is dropped and counted.
/// </remarks>
internal sealed class OpenModelRunner : LoadRunner
{
    private static readonly long SpinBelowTicks = Stopwatch.Frequency / 1000 * 3 / 2;

    public OpenModelRunner(ILoadOperation operation, LoadPlan plan)
        : base(operation, plan)
    {
        if (!(plan.Rate > 0) || double.IsInfinity(plan.Rate))
        {
            throw new ArgumentOutOfRangeException(nameof(plan), plan.Rate, "the open model needs a positive, finite rate");
        }
    }

    /// <summary>Sends due before <paramref name="span"/> has elapsed: i/rate &lt; span.</summary>
    public static long SendsBefore(TimeSpan span, double rate) =>
        Math.Max(0, (long)Math.Ceiling((span.TotalSeconds * rate) - 1e-9));

    protected override Task DispatchAsync(long start, CancellationToken abort)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Schedule(start, abort);
                done.TrySetResult();
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                done.TrySetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = "open-model schedule",
        };
        thread.Start();
        return done.Task;
    }

    private void Schedule(long start, CancellationToken abort)
    {
        var ticksPerSend = Stopwatch.Frequency / Plan.Rate;
        var warmUpSends = SendsBefore(Plan.WarmUp, Plan.Rate);
        var total = SendsBefore(Plan.WarmUp + Plan.Duration, Plan.Rate);
        var latenessTicks = ToTicks(Plan.LatenessBound);
        for (long i = 0; i < total; i++)
        {
            var intended = start + (long)(i * ticksPerSend);
            if (!WaitUntil(intended, abort))
            {
                return;
            }

            var measured = i >= warmUpSends;
            if (InFlight >= Plan.MaxInFlight)
            {
                if (measured)
                {
                    Recorder.CountDropped();
                }

                continue;
            }

            BeginRequest();
            ThreadPool.UnsafeQueueUserWorkItem(new Send(this, intended, measured, latenessTicks, abort), preferLocal: false);
        }
    }

    private static bool WaitUntil(long timestamp, CancellationToken abort)
    {
        while (true)
        {
            if (abort.IsCancellationRequested)
            {
                return false;
            }

            var remaining = timestamp - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return true;
            }

            if (remaining > SpinBelowTicks)
            {
                // Sleep to within about a millisecond (the granularity of Thread.Sleep), at most 100 ms at a time so a
                // cancelled run stops promptly.
                var milliseconds = (remaining * 1000 / Stopwatch.Frequency) - 1;
                Thread.Sleep((int)Math.Clamp(milliseconds, 1, 100));
            }
            else
            {
                Thread.Yield();
            }
        }
    }

    private sealed class Send(OpenModelRunner runner, long intended, bool measured, long latenessTicks, CancellationToken abort)
        : IThreadPoolWorkItem
    {
        public void Execute()
        {
            if (measured && Stopwatch.GetTimestamp() - intended > latenessTicks)
            {
                runner.Recorder.CountLate();
            }

            // Not awaited: the open model never waits for a request before sending the next; RunRequestAsync accounts for it.
            _ = runner.RunRequestAsync(intended, measured, abort);
        }
    }
}
