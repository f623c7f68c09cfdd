using System.Globalization;
using EgressLab.LoadTests.Load;

namespace EgressLab.LoadTests.Cli;

/// <summary>
/// Once a second, one line on standard error saying where the run is. On a terminal it rewrites itself in place;
/// elsewhere (a log, the compare command) each second is its own line.
/// </summary>
internal sealed class ProgressLine : IAsyncDisposable
{
    /// <summary>Runs longer than this show progress even when standard error is not a terminal.</summary>
    public static readonly TimeSpan LongRun = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly TextWriter _error;
    private readonly bool _terminal;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile Tracked? _tracked;
    private int _lastLength;

    private ProgressLine(TextWriter error, bool terminal)
    {
        _error = error;
        _terminal = terminal;
        _loop = LoopAsync(_stop.Token);
    }

    /// <summary>A progress line, or null when none should show.</summary>
    public static ProgressLine? StartIfWanted(TextWriter error, bool quiet, TimeSpan expectedLength)
    {
        ArgumentNullException.ThrowIfNull(error);
        var terminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
        return quiet || (!terminal && expectedLength <= LongRun) ? null : new ProgressLine(error, terminal);
    }

    public void Track(LoadRunner runner, string label) => _tracked = new Tracked(runner, label);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The loop ends by cancellation.
        }

        if (_terminal && _lastLength > 0)
        {
            await _error.WriteLineAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_tracked is not { } tracked || tracked.Runner.StartTimestamp == 0)
            {
                continue;
            }

            var line = Describe(tracked);
            if (_terminal)
            {
                await _error.WriteAsync("\r" + line.PadRight(_lastLength)).ConfigureAwait(false);
                _lastLength = line.Length;
            }
            else
            {
                await _error.WriteLineAsync(line).ConfigureAwait(false);
            }

            await _error.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Describe(Tracked tracked)
    {
        var runner = tracked.Runner;
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(runner.StartTimestamp);
        var total = runner.Plan.WarmUp + runner.Plan.Duration;
        var recorder = runner.Recorder;
        var stage = runner.Stage switch
        {
            LoadStage.WarmUp => "warm-up",
            LoadStage.Measuring => "measuring",
            LoadStage.Draining => "draining",
            _ => "done",
        };
        return string.Create(CultureInfo.InvariantCulture,
            $"{tracked.Label}{elapsed.TotalSeconds,5:0}s/{total.TotalSeconds:0}s {stage,-9} sent {runner.Started} done {runner.Completed} in flight {runner.InFlight} | measured {recorder.Requests} errors {recorder.Failed} dropped {recorder.DroppedSends} late {recorder.LateSends} | p99 {recorder.Corrected.ValueAtPercentile(99) / 1000.0:0.0} ms");
    }

    private sealed record Tracked(LoadRunner Runner, string Label);
}
