using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Measurement;

/// <summary>Per-second counts over the measured window, by completion time. Thread-safe and allocation-free to record.</summary>
internal sealed class Timeline
{
    private readonly long[] _requests;
    private readonly long[] _errors;
    private readonly long[] _bytesDown;
    private readonly long[] _bytesUp;
    private readonly int _windowSeconds;

    /// <param name="window">The measured window.</param>
    /// <param name="overrun">How long after the window completions may still arrive (the grace period).</param>
    public Timeline(TimeSpan window, TimeSpan overrun)
    {
        _windowSeconds = Math.Max(1, (int)Math.Ceiling(window.TotalSeconds));
        var length = _windowSeconds + (int)Math.Ceiling(overrun.TotalSeconds) + 1;
        _requests = new long[length];
        _errors = new long[length];
        _bytesDown = new long[length];
        _bytesUp = new long[length];
    }

    public void Record(double secondsIntoWindow, bool failed, long bytesDown, long bytesUp)
    {
        var index = Math.Clamp((int)secondsIntoWindow, 0, _requests.Length - 1);
        Interlocked.Increment(ref _requests[index]);
        if (failed)
        {
            Interlocked.Increment(ref _errors[index]);
        }

        if (bytesDown != 0)
        {
            Interlocked.Add(ref _bytesDown[index], bytesDown);
        }

        if (bytesUp != 0)
        {
            Interlocked.Add(ref _bytesUp[index], bytesUp);
        }
    }

    /// <summary>Every second of the window, then the seconds after it in which something completed.</summary>
    public IReadOnlyList<TimelinePoint> Points()
    {
        var last = _windowSeconds - 1;
        for (var i = _requests.Length - 1; i > last; i--)
        {
            if (Volatile.Read(ref _requests[i]) != 0)
            {
                last = i;
                break;
            }
        }

        var points = new TimelinePoint[last + 1];
        for (var i = 0; i <= last; i++)
        {
            points[i] = new TimelinePoint(i, Volatile.Read(ref _requests[i]), Volatile.Read(ref _errors[i]),
                Volatile.Read(ref _bytesDown[i]), Volatile.Read(ref _bytesUp[i]));
        }

        return points;
    }
}
