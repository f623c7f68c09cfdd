using EgressLab.LoadTests.Measurement;

namespace EgressLab.LoadTests.Load;

/// <summary>One request of a scenario, made as many times as the load model asks.</summary>
internal interface ILoadOperation : IDisposable
{
    /// <summary>The phase names the operation reports (<see cref="OperationOutcome.Phases"/>), or empty.</summary>
    IReadOnlyList<string> PhaseNames { get; }

    /// <summary>
    /// Makes one request. Never throws for a failed request: the failure is classified into the outcome. Cancellation of
    /// <paramref name="cancellationToken"/> (the run ending) is a failure like any other and is reported as a timeout.
    /// </summary>
    ValueTask<OperationOutcome> ExecuteAsync(CancellationToken cancellationToken);
}

/// <summary>What one request did. Timestamps are <see cref="System.Diagnostics.Stopwatch"/> ticks.</summary>
/// <param name="SentTimestamp">When the request actually went out: after it waited for its turn at a bounded connection
/// pool, when the first step of sending (connecting, or writing on a pooled connection) began.</param>
/// <param name="Phases">Phase durations in ticks, in the order of <see cref="ILoadOperation.PhaseNames"/>; null when the
/// operation has no phases or the request failed before finishing them. A phase that did not happen is −1.</param>
internal readonly record struct OperationOutcome(
    long SentTimestamp,
    long BytesDown,
    long BytesUp,
    RequestError Error,
    int StatusCode,
    long[]? Phases)
{
    public bool Succeeded => Error == RequestError.None;
}
