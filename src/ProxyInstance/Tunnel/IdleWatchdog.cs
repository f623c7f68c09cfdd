namespace EgressLab.ProxyInstance.Tunnel;

/// <summary>
/// Ends a tunnel that moved no byte for its idle timeout: a timer that looks at the last activity when it fires and,
/// if the tunnel was busy since, sets itself for the rest of the timeout.
/// </summary>
/// <remarks>
/// A timer, not an awaited <c>Task.Delay</c>: a cancelled delay runs its continuation on the thread pool, so every
/// tunnel that closed woke a pool thread to finish there (one of the thread switches that made a new tunnel cost
/// more CPU than it needs). Disposing the timer is synchronous unless its callback is running at that moment, so a
/// tunnel ends on the thread that saw its last byte. The callback itself runs on the pool only when the timer fires,
/// about once per idle timeout of a tunnel that stays open.
/// </remarks>
internal sealed class IdleWatchdog : IAsyncDisposable
{
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _timeProvider;
    private readonly Action<object?> _onIdle;
    private readonly object? _state;
    private readonly ITimer _timer;
    private long _lastActivity;
    private int _disposed;

    /// <param name="onIdle">
    /// Called once, with <paramref name="state"/>, on a thread-pool thread, when the tunnel has been idle for <paramref name="timeout"/>.
    /// </param>
    public IdleWatchdog(TimeSpan timeout, TimeProvider timeProvider, Action<object?> onIdle, object? state)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(onIdle);
        _timeout = timeout;
        _timeProvider = timeProvider;
        _onIdle = onIdle;
        _state = state;
        _lastActivity = timeProvider.GetTimestamp();
        _timer = timeProvider.CreateTimer(static state => ((IdleWatchdog)state!).Check(), this, timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Records activity now: the timeout counts from here. Cheap enough for every chunk relayed.</summary>
    public void Touch() => Interlocked.Exchange(ref _lastActivity, _timeProvider.GetTimestamp());

    /// <summary>Stops the timer; completes at once unless the callback is running, in which case it waits for it.</summary>
    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _disposed, 1) == 0 ? _timer.DisposeAsync() : ValueTask.CompletedTask;

    private void Check()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        var idleFor = _timeProvider.GetElapsedTime(Interlocked.Read(ref _lastActivity));
        if (idleFor >= _timeout)
        {
            _onIdle(_state);
            return;
        }

        try
        {
            _timer.Change(_timeout - idleFor, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The tunnel ended while this check ran: nothing left to watch.
        }
    }
}
