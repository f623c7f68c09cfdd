using System.Globalization;

namespace EgressLab.LoadTests.Reports;

/// <summary>
/// How every number in a report is written, in one place so Markdown, HTML and charts agree: invariant culture,
/// precision that follows the magnitude (ms: 2 decimals below 10, 1 below 100, none above; MB/s: 1 decimal).
/// </summary>
internal static class ReportFormat
{
    /// <summary>Shown where there is no value: not measured, no L3 path to compare with, the L3 path itself.</summary>
    public const string Missing = "—";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Milliseconds(double value) => Scaled(value);

    /// <summary>Requests per second, with the precision of <see cref="Milliseconds"/>.</summary>
    public static string Rate(double value) => Scaled(value);

    public static string Throughput(double megabytesPerSecond) =>
        double.IsFinite(megabytesPerSecond) ? Clean(megabytesPerSecond).ToString("#,0.0", Invariant) : Missing;

    public static string Count(long value) => value.ToString("#,0", Invariant);

    public static string Count(int value) => value.ToString("#,0", Invariant);

    /// <summary>A path's figure divided by the L3 path's: "1.23×".</summary>
    public static string Ratio(double? ratio) =>
        ratio is { } r && double.IsFinite(r) ? Clean(r).ToString("0.00", Invariant) + "×" : Missing;

    /// <summary>A fraction as a percentage: 0.0004 is "0.04%".</summary>
    public static string Percent(double fraction)
    {
        if (!double.IsFinite(fraction))
        {
            return Missing;
        }

        var percent = Clean(fraction * 100);
        return percent.ToString(Math.Abs(percent) < 9.995 ? "0.00" : "0.0", Invariant) + "%";
    }

    public static string Seconds(double value) => double.IsFinite(value) ? Clean(value).ToString("#,0.##", Invariant) + " s" : Missing;

    public static string Timestamp(DateTimeOffset value) => value.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", Invariant) + " UTC";

    /// <summary>US dollars with cents, half a cent rounded up as on a bill: "$1,234.56". Rounded in decimal, since
    /// 16.425 as a double is a hair below and would print as 16.42.</summary>
    public static string Usd(double value) =>
        double.IsFinite(value) && Math.Abs(value) < 1e15
            ? "$" + Math.Round((decimal)value, 2, MidpointRounding.AwayFromZero).ToString("#,0.00", Invariant)
            : Missing;

    /// <summary>A unit price, as precise as the price table gives it: "$0.045".</summary>
    public static string UnitPrice(double value) => double.IsFinite(value) ? "$" + Clean(value).ToString("0.00##", Invariant) : Missing;

    /// <summary>A monthly volume in GB, with TB beside it from 1,000 GB: "1,404.1 GB (1.4 TB)".</summary>
    public static string Gigabytes(double value) =>
        !double.IsFinite(value) ? Missing
        : value >= 1000 ? $"{Clean(value).ToString("#,0.#", Invariant)} GB ({Clean(value / 1000).ToString("#,0.##", Invariant)} TB)"
        : $"{Clean(value).ToString("#,0.#", Invariant)} GB";

    public static string YesNo(bool value) => value ? "yes" : "no";

    /// <summary>"12.3 (11.8–13.0)": the median across rounds and the range the rounds spanned; the range is left out
    /// when it would print as one number (one round, or rounds that agree to the shown precision).</summary>
    public static string Spread(Spread spread, Func<double, string> format)
    {
        var median = format(spread.Median);
        var min = format(spread.Min);
        var max = format(spread.Max);
        return min == max ? median : $"{median} ({min}–{max})";
    }

    private static string Scaled(double value)
    {
        if (!double.IsFinite(value))
        {
            return Missing;
        }

        value = Clean(value);
        var magnitude = Math.Abs(value);
        var format = magnitude < 9.995 ? "0.00" : magnitude < 99.95 ? "0.0" : "#,0";
        return value.ToString(format, Invariant);
    }

    // Negative zero would print as "-0".
    private static double Clean(double value) => value == 0 ? 0 : value;
}
