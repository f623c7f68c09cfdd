using System.Globalization;

namespace EgressLab.LoadTests.Cli;

/// <summary>Durations on the command line: <c>500ms</c>, <c>20s</c>, <c>2m</c>, <c>1h</c> (decimals allowed), or a TimeSpan such as <c>00:00:20</c>.</summary>
internal static class DurationText
{
    public const string Forms = "500ms, 20s, 1.5s, 2m, 1h or 00:00:20";

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        var value = text?.Trim() ?? string.Empty;
        if (value.Length == 0)
        {
            return false;
        }

        if (value.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out duration) && duration >= TimeSpan.Zero;
        }

        var (number, scale) = value switch
        {
            _ when value.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (value[..^2], TimeSpan.TicksPerMillisecond),
            _ when value.EndsWith('s') || value.EndsWith('S') => (value[..^1], TimeSpan.TicksPerSecond),
            _ when value.EndsWith('m') || value.EndsWith('M') => (value[..^1], TimeSpan.TicksPerMinute),
            _ when value.EndsWith('h') || value.EndsWith('H') => (value[..^1], TimeSpan.TicksPerHour),
            _ => (string.Empty, 0L),
        };
        if (scale == 0 || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
            || !double.IsFinite(amount) || amount * scale > TimeSpan.MaxValue.Ticks)
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)Math.Round(amount * scale));
        return true;
    }

    /// <summary>"500ms", "20s", "2m": the shortest of these forms that says it exactly.</summary>
    public static string Format(TimeSpan duration) => duration switch
    {
        _ when duration.Ticks % TimeSpan.TicksPerMinute == 0 && duration >= TimeSpan.FromMinutes(1) => $"{duration.TotalMinutes.ToString(CultureInfo.InvariantCulture)}m",
        _ when duration.Ticks % TimeSpan.TicksPerSecond == 0 => $"{duration.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s",
        _ => $"{duration.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms",
    };
}
