using System.Diagnostics;
using EgressLab.LoadTests.Measurement;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Load;

/// <summary>
/// Everything measured in one run's window: latencies (from the intended send and from the actual send), phases, errors
/// by class, bytes, late and dropped sends, and the per-second timeline. Safe to record into from many requests at once.
/// </summary>
internal sealed class LoadRecorder
{
    // Statuses are counted by value; anything outside 0..999 is not HTTP and lands in the last slot.
    private const int StatusSlots = 1000;

    private readonly long[] _errors = new long[Enum.GetValues<RequestError>().Length];
    private readonly long[] _statuses = new long[StatusSlots];
    private readonly LatencyHistogram[] _phases;
    private readonly Timeline _timeline;
    private long _requests;
    private long _failed;
    private long _bytesDown;
    private long _bytesUp;
    private long _late;
    private long _dropped;
    private long _completedInWindow;
    private long _succeededIncludingWarmUp;
    private long _failedIncludingWarmUp;

    public LoadRecorder(LoadPlan plan, IReadOnlyList<string> phaseNames)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(phaseNames);
        Plan = plan;
        PhaseNames = phaseNames;
        _phases = new LatencyHistogram[phaseNames.Count];
        for (var i = 0; i < _phases.Length; i++)
        {
            _phases[i] = new LatencyHistogram();
        }

        _timeline = new Timeline(plan.Duration, plan.Grace);
    }

    public LoadPlan Plan { get; }
    public IReadOnlyList<string> PhaseNames { get; }

    /// <summary>Stopwatch timestamp at which the measured window starts; set by the runner when it starts.</summary>
    public long WindowStart { get; set; }

    /// <summary>Stopwatch timestamp at which the measured window ends; set by the runner when it starts.</summary>
    public long WindowEnd { get; set; }

    /// <summary>Requests (warm-up ones included) that completed inside the window: the throughput actually achieved.</summary>
    public long CompletedInWindow => Volatile.Read(ref _completedInWindow);

    public LatencyHistogram Corrected { get; } = new();
    public LatencyHistogram Uncorrected { get; } = new();
    public long Requests => Volatile.Read(ref _requests);
    public long Failed => Volatile.Read(ref _failed);
    public long LateSends => Volatile.Read(ref _late);
    public long DroppedSends => Volatile.Read(ref _dropped);
    public long BytesDown => Volatile.Read(ref _bytesDown);
    public long BytesUp => Volatile.Read(ref _bytesUp);

    public void CountLate() => Interlocked.Increment(ref _late);

    public void CountDropped() => Interlocked.Increment(ref _dropped);

    /// <summary>Notes the completion of any request, measured or not: for the achieved rate, and for the count of
    /// successes an origin's access log can be checked against.</summary>
    public void CountCompletion(long completed, bool succeeded)
    {
        Interlocked.Increment(ref succeeded ? ref _succeededIncludingWarmUp : ref _failedIncludingWarmUp);

        if (completed >= WindowStart && completed < WindowEnd)
        {
            Interlocked.Increment(ref _completedInWindow);
        }
    }

    /// <summary>Records one completed request of the measured window.</summary>
    /// <param name="intended">When it should have been sent (the open model's schedule; the actual send for the closed model).</param>
    /// <param name="completed">When its response was complete, or it failed.</param>
    public void Record(long intended, long completed, in OperationOutcome outcome)
    {
        Corrected.RecordTicks(completed - intended);
        Uncorrected.RecordTicks(completed - outcome.SentTimestamp);
        Interlocked.Increment(ref _requests);
        if (!outcome.Succeeded)
        {
            Interlocked.Increment(ref _failed);
            Interlocked.Increment(ref _errors[(int)outcome.Error]);
            if (outcome.Error == RequestError.HttpStatus)
            {
                Interlocked.Increment(ref _statuses[Math.Clamp(outcome.StatusCode, 0, StatusSlots - 1)]);
            }
        }
        else if (outcome.Phases is { } phases)
        {
            for (var i = 0; i < _phases.Length && i < phases.Length; i++)
            {
                if (phases[i] >= 0)
                {
                    _phases[i].RecordTicks(phases[i]);
                }
            }
        }

        Interlocked.Add(ref _bytesDown, outcome.BytesDown);
        Interlocked.Add(ref _bytesUp, outcome.BytesUp);
        _timeline.Record((completed - WindowStart) / (double)Stopwatch.Frequency, !outcome.Succeeded, outcome.BytesDown, outcome.BytesUp);
    }

    public IReadOnlyDictionary<string, long> ErrorsByClass()
    {
        var errors = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < _errors.Length; i++)
        {
            var count = Volatile.Read(ref _errors[i]);
            if (count != 0 && (RequestError)i != RequestError.HttpStatus)
            {
                errors[RequestErrorNames.Of((RequestError)i, 0)] = count;
            }
        }

        for (var status = 0; status < StatusSlots; status++)
        {
            var count = Volatile.Read(ref _statuses[status]);
            if (count != 0)
            {
                errors[RequestErrorNames.Of(RequestError.HttpStatus, status)] = count;
            }
        }

        return errors;
    }

    public ScenarioResult ToResult(string scenario)
    {
        var seconds = Plan.Duration.TotalSeconds;
        var requests = Requests;
        Dictionary<string, LatencySummary>? phases = null;
        if (_phases.Length > 0)
        {
            phases = new Dictionary<string, LatencySummary>(StringComparer.Ordinal);
            for (var i = 0; i < _phases.Length; i++)
            {
                if (_phases[i].Count > 0)
                {
                    phases[PhaseNames[i]] = _phases[i].Summary();
                }
            }
        }

        return new ScenarioResult
        {
            Scenario = scenario,
            Model = Plan.Model,
            OfferedRate = Plan.Model == LoadModel.Open ? Plan.Rate : null,
            Concurrency = Plan.Concurrency,
            DurationSeconds = seconds,
            WarmUpSeconds = Plan.WarmUp.TotalSeconds,
            Requests = requests,
            SucceededIncludingWarmUp = Volatile.Read(ref _succeededIncludingWarmUp),
            FailedIncludingWarmUp = Volatile.Read(ref _failedIncludingWarmUp),
            AchievedRate = CompletedInWindow / seconds,
            LateSends = LateSends,
            DroppedSends = DroppedSends,
            BytesDown = BytesDown,
            BytesUp = BytesUp,
            ThroughputMBps = (BytesDown + BytesUp) / seconds / 1_000_000.0,
            Errors = ErrorsByClass(),
            Corrected = Corrected.Summary(),
            Uncorrected = Uncorrected.Summary(),
            CorrectedHistogram = Corrected.Buckets(),
            Phases = phases,
            Timeline = _timeline.Points(),
        };
    }
}
