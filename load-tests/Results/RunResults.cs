using System.Text.Json.Serialization;

namespace EgressLab.LoadTests.Results;

// The results model: what `run` writes as JSON, what `compare` collects per path and round, and what the
// report renderers read. Times are in milliseconds, rates per second, sizes in bytes, unless a name says otherwise.

/// <summary>Latency percentiles of one histogram.</summary>
internal sealed record LatencySummary(long Count, double MeanMs, double P50Ms, double P90Ms, double P99Ms, double P999Ms, double MaxMs);

/// <summary>One non-empty bucket of an HDR-style histogram: every recorded value up to <see cref="UpToMicroseconds"/>
/// and above the previous bucket's bound.</summary>
internal sealed record HistogramBucket(long UpToMicroseconds, long Count);

/// <summary>What happened in one second of the measured window (after warm-up), for throughput over time.</summary>
internal sealed record TimelinePoint(double AtSeconds, long Requests, long Errors, long BytesDown, long BytesUp);

/// <summary>How the load was offered: open (constant arrival rate) or closed (fixed number of users).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LoadModel>))]
internal enum LoadModel
{
    Open,
    Closed,
}

/// <summary>One scenario run at one load: a cell of a report.</summary>
internal sealed record ScenarioResult
{
    /// <summary><c>http-small</c>, <c>https-small</c>, <c>new-connection</c>, <c>bulk</c> or <c>upload</c>.</summary>
    public required string Scenario { get; init; }
    public required LoadModel Model { get; init; }

    /// <summary>Requests per second offered (open model); null for the closed model.</summary>
    public double? OfferedRate { get; init; }

    /// <summary>Concurrent users (closed model) or the most requests allowed in flight (open model).</summary>
    public required int Concurrency { get; init; }
    public required double DurationSeconds { get; init; }
    public required double WarmUpSeconds { get; init; }

    /// <summary>Requests completed in the measured window, successful or not: those whose (intended) send fell in the
    /// window, including any that completed in the grace period after it.</summary>
    public required long Requests { get; init; }

    /// <summary>Requests that succeeded, warm-up included: every one an answer from the origin, so the origin's access
    /// log holds them all.</summary>
    public long SucceededIncludingWarmUp { get; init; }

    /// <summary>Requests that failed, warm-up included: each may or may not have reached the origin.</summary>
    public long FailedIncludingWarmUp { get; init; }

    /// <summary>Requests completed per second inside the measured window (warm-up requests that completed in it included):
    /// the throughput sustained, which falls behind the offered rate when the path saturates.</summary>
    public required double AchievedRate { get; init; }

    /// <summary>Open model: sends that started later than their intended time by more than the lateness bound.</summary>
    public long LateSends { get; init; }

    /// <summary>Open model: intended sends never made because too many requests were in flight.</summary>
    public long DroppedSends { get; init; }
    public required long BytesDown { get; init; }
    public required long BytesUp { get; init; }

    /// <summary>Bytes down and up per second over the measured window, in MB/s (10^6 bytes).</summary>
    public required double ThroughputMBps { get; init; }

    /// <summary>Errors by class: <c>dns</c>, <c>connect</c>, <c>connect-refused</c> (the proxy answered CONNECT with
    /// an error), <c>tls</c>, <c>timeout</c>, <c>reset</c>, <c>http-NNN</c> (a status other than 2xx), <c>body-size</c>
    /// (a 2xx whose body is not the size the origin contract promises), <c>other</c>.</summary>
    public required IReadOnlyDictionary<string, long> Errors { get; init; }

    /// <summary>Latency from the intended send time (open model) or the send (closed model): what a user waited.</summary>
    public required LatencySummary Corrected { get; init; }

    /// <summary>Latency from the moment the request was actually sent: what a naive tool reports.</summary>
    public required LatencySummary Uncorrected { get; init; }
    public required IReadOnlyList<HistogramBucket> CorrectedHistogram { get; init; }

    /// <summary>new-connection only: <c>tcp-connect</c>, <c>proxy-connect</c> (CONNECT to its 200, through a proxy),
    /// <c>tls-handshake</c>, <c>first-byte</c>, <c>total</c>.</summary>
    public IReadOnlyDictionary<string, LatencySummary>? Phases { get; init; }
    public required IReadOnlyList<TimelinePoint> Timeline { get; init; }
}

/// <summary>One step of a rate ladder: the rate offered and what came of it.</summary>
/// <param name="P99Ms">The corrected p99.</param>
/// <param name="ErrorRate">Failed and dropped requests as a fraction of all (0.01 is 1%).</param>
/// <param name="Saturated">Whether the step is past the knee (see the ladder's rule in <c>run --help</c>).</param>
internal sealed record LadderStep(double OfferedRate, double AchievedRate, double P99Ms, double ErrorRate, bool Saturated);

/// <summary>A threshold given with <c>--assert</c>, and whether the run met it.</summary>
internal sealed record ThresholdResult(string Expression, double Actual, bool Passed);

/// <summary>Where and how a run was made: enough to reproduce it and to judge its numbers.</summary>
internal sealed record RunEnvironment(string Kernel, string DotNet, int ProcessorCount, string? Commit, string Command, DateTimeOffset StartedAt);

/// <summary>What <c>run</c> writes with <c>--json</c>.</summary>
internal sealed record RunResults
{
    public required RunEnvironment Environment { get; init; }

    /// <summary>The origin's base URL, and the proxy used (null when direct).</summary>
    public required string Url { get; init; }
    public string? Proxy { get; init; }
    public required IReadOnlyList<ScenarioResult> Results { get; init; }

    /// <summary>The rate ladder's steps, when one was run; the knee is the last step that was not saturated.</summary>
    public IReadOnlyList<LadderStep>? Ladder { get; init; }
    public IReadOnlyList<ThresholdResult> Thresholds { get; init; } = [];
}
