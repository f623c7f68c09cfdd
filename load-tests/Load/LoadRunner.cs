using System.Diagnostics;
using EgressLab.LoadTests.Measurement;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Load;

/// <summary>Where a run is: what the progress line shows.</summary>
internal enum LoadStage
{
    NotStarted,
    WarmUp,
    Measuring,
    Draining,
    Done,
}

/// <summary>
/// Offers load to one operation by one model and measures it. The clock is <see cref="Stopwatch"/>, on purpose rather than
/// an injected <see cref="TimeProvider"/>: a load generator measures real elapsed time and schedules against it.
/// </summary>
internal abstract class LoadRunner
{
    /// <summary>After the grace period, how long cancelled requests get to report back before the run stops waiting.</summary>
    private static readonly TimeSpan AbortWait = TimeSpan.FromSeconds(5);

    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _inFlight;
    private long _started;
    private long _completed;
    private int _dispatchDone;
    private volatile bool _finished;

    protected LoadRunner(ILoadOperation operation, LoadPlan plan)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(plan);
        Operation = operation;
        Plan = plan;
        Recorder = new LoadRecorder(plan, operation.PhaseNames);
    }

    public LoadPlan Plan { get; }
    public LoadRecorder Recorder { get; }

    /// <summary>Requests started so far, warm-up included.</summary>
    public long Started => Volatile.Read(ref _started);

    /// <summary>Requests completed so far, warm-up included.</summary>
    public long Completed => Volatile.Read(ref _completed);
    public long InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Stopwatch timestamp of the start, 0 before.</summary>
    public long StartTimestamp { get; private set; }

    public long WindowEnd { get; private set; }

    public LoadStage Stage
    {
        get
        {
            if (_finished)
            {
                return LoadStage.Done;
            }

            if (StartTimestamp == 0)
            {
                return LoadStage.NotStarted;
            }

            var now = Stopwatch.GetTimestamp();
            return now < Recorder.WindowStart ? LoadStage.WarmUp : now < WindowEnd ? LoadStage.Measuring : LoadStage.Draining;
        }
    }

    protected ILoadOperation Operation { get; }

    public static LoadRunner Create(ILoadOperation operation, LoadPlan plan) => plan?.Model switch
    {
        LoadModel.Open => new OpenModelRunner(operation, plan),
        LoadModel.Closed => new ClosedModelRunner(operation, plan),
        _ => throw new ArgumentOutOfRangeException(nameof(plan)),
    };

    /// <summary>
    /// Runs the warm-up and the measured window, then waits for outstanding requests for the grace period, cancels what is
    /// left (those complete as timeouts) and returns. Throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> stops the run early.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var start = Stopwatch.GetTimestamp();
        Recorder.WindowStart = start + ToTicks(Plan.WarmUp);
        WindowEnd = Recorder.WindowStart + ToTicks(Plan.Duration);
        Recorder.WindowEnd = WindowEnd;
        StartTimestamp = start;
        try
        {
            await DispatchAsync(start, abort.Token).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _dispatchDone, 1);
            if (InFlight == 0)
            {
                _drained.TrySetResult();
            }
        }

        try
        {
            await Drained.WaitAsync(Plan.Grace, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await abort.CancelAsync().ConfigureAwait(false);
            try
            {
                await Drained.WaitAsync(AbortWait, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // An operation that ignores cancellation: stop waiting for it; its request is not counted.
            }
        }
        finally
        {
            _finished = true;
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Starts requests until the end of the measured window (or until <paramref name="abort"/>); returns when no
    /// further request will start.</summary>
    protected abstract Task DispatchAsync(long start, CancellationToken abort);

    /// <summary>Completes when every started request has completed. The default counts requests in flight.</summary>
    protected virtual Task Drained => _drained.Task;

    /// <summary>Counts a request as started; call before starting it.</summary>
    protected void BeginRequest()
    {
        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _started);
    }

    /// <summary>Runs one request started with <see cref="BeginRequest"/> and records it when it belongs to the window.</summary>
    /// <param name="intended">The intended send time, or 0 to use the actual send (closed model).</param>
    protected async Task RunRequestAsync(long intended, bool measured, CancellationToken abort)
    {
        try
        {
            OperationOutcome outcome;
            var began = Stopwatch.GetTimestamp();
            try
            {
                outcome = await Operation.ExecuteAsync(abort).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // The contract is that operations classify their own failures; one that throws anyway is still a
                // request that failed, and must not leave the in-flight count (and so the end of the run) hanging.
                outcome = new OperationOutcome(began, 0, 0, RequestError.Other, 0, null);
            }

            var completed = Stopwatch.GetTimestamp();
            Recorder.CountCompletion(completed, outcome.Succeeded);
            if (measured)
            {
                Recorder.Record(intended == 0 ? outcome.SentTimestamp : intended, completed, outcome);
            }
        }
        finally
        {
            Interlocked.Increment(ref _completed);
            if (Interlocked.Decrement(ref _inFlight) == 0 && Volatile.Read(ref _dispatchDone) == 1)
            {
                _drained.TrySetResult();
            }
        }
    }

    protected static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
