using System.Globalization;
using System.Text.RegularExpressions;

namespace EgressLab.LoadTests.Cost;

/// <summary>
/// How much crosses an egress path in a month, as given with <c>--traffic</c>: "2TB/month", "500 GB/month",
/// "1.5TiB". GB and TB are decimal (10^9 and 10^12 bytes), GiB and TiB binary (2^30 and 2^40 bytes); the price
/// table's per-GB prices apply per decimal GB.
/// </summary>
internal readonly partial record struct TrafficVolume(double Gigabytes, string Text)
{
    public const string Forms = "a number and a unit (GB, TB, GiB or TiB), optionally followed by /month, such as 2TB/month or 500GB/month";

    /// <summary>The most that is accepted: a million TB a month is far past any egress path's tier table.</summary>
    public const double MostGigabytes = 1e9;

    [GeneratedRegex(@"^\s*(?<number>\d+(\.\d+)?)\s*(?<unit>GB|TB|GiB|TiB)\s*(/\s*(?i:month))?\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool TryParse(string? text, out TrafficVolume volume, out string problem)
    {
        volume = default;
        problem = string.Empty;
        var match = Pattern().Match(text ?? "");
        if (!match.Success || !double.TryParse(match.Groups["number"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            problem = $"--traffic '{text}' is not a monthly volume: use {Forms}.";
            return false;
        }

        var gigabytes = match.Groups["unit"].Value switch
        {
            "GB" => number,
            "TB" => number * 1000,
            "GiB" => number * 1.073741824,
            _ => number * 1099.511627776,
        };
        if (gigabytes > MostGigabytes)
        {
            problem = $"--traffic '{text}' is more than a million TB a month: give the volume one egress path carries in a month.";
            return false;
        }

        volume = new TrafficVolume(gigabytes, $"{number.ToString("#,0.###", CultureInfo.InvariantCulture)} {match.Groups["unit"].Value}/month");
        return true;
    }
}
