using System.Diagnostics;

namespace EgressLab.LoadTests.Load;

/// <summary>
/// The closed model: <see cref="LoadPlan.Users"/> users, each sending its next request as soon as the previous one
/// completed. It measures what a fixed pool of clients gets; since each user waits, latency is taken from the actual
/// send and the corrected and uncorrected figures are the same.
/// </summary>
internal sealed class ClosedModelRunner : LoadRunner
{
    private Task _users = Task.CompletedTask;

    public ClosedModelRunner(ILoadOperation operation, LoadPlan plan)
        : base(operation, plan)
    {
        if (plan.Users < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(plan), plan.Users, "the closed model needs at least one user");
        }
    }

    /// <summary>The users finish the request they started before the window's end, then stop.</summary>
    protected override Task Drained => _users;

    protected override async Task DispatchAsync(long start, CancellationToken abort)
    {
        var users = new Task[Plan.Users];
        for (var i = 0; i < users.Length; i++)
        {
            users[i] = Task.Run(() => UserAsync(abort), CancellationToken.None);
        }

        _users = Task.WhenAll(users);
        var remaining = WindowEnd - Stopwatch.GetTimestamp();
        if (remaining > 0)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(remaining / (double)Stopwatch.Frequency), abort).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                // Stopped early: RunAsync reports the cancellation once the users have stopped.
            }
        }
    }

    private async Task UserAsync(CancellationToken abort)
    {
        while (!abort.IsCancellationRequested)
        {
            var began = Stopwatch.GetTimestamp();
            if (began >= WindowEnd)
            {
                return;
            }

            BeginRequest();
            await RunRequestAsync(0, began >= Recorder.WindowStart, abort).ConfigureAwait(false);
        }
    }
}
