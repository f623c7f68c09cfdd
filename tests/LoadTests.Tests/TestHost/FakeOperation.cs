using System.Diagnostics;
using EgressLab.LoadTests.Load;
using EgressLab.LoadTests.Measurement;

namespace EgressLab.LoadTests.Tests.TestHost;

/// <summary>An operation without a network: it takes <see cref="Delay"/> (or waits to be cancelled) and counts calls.</summary>
internal sealed class FakeOperation(TimeSpan delay) : ILoadOperation
{
    private int _calls;

    public TimeSpan Delay { get; } = delay;
    public int Calls => Volatile.Read(ref _calls);
    public IReadOnlyList<string> PhaseNames => [];

    public async ValueTask<OperationOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        var sent = Stopwatch.GetTimestamp();
        try
        {
            if (Delay != TimeSpan.Zero)
            {
                await Task.Delay(Delay, cancellationToken);
            }

            return new OperationOutcome(sent, 10, 0, RequestError.None, 200, null);
        }
        catch (OperationCanceledException)
        {
            return new OperationOutcome(sent, 0, 0, RequestError.Timeout, 0, null);
        }
    }

    public void Dispose()
    {
    }
}
