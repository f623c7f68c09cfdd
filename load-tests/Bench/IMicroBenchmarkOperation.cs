namespace EgressLab.LoadTests.Bench;

/// <summary>
/// What a <see cref="MicroBenchmark"/> times. It is called with a batch of operations, so the cost of the call (an
/// interface dispatch) is spread over the batch instead of added to every operation.
/// </summary>
internal interface IMicroBenchmarkOperation
{
    /// <summary>Performs the operation <paramref name="count"/> times.</summary>
    /// <returns>A value computed from every operation's result, which the harness keeps so the JIT cannot drop the work as unused.</returns>
    long Invoke(long count);
}
