using System.Globalization;

namespace EgressLab.ProxyInstance.Tests.Deploy;

/// <summary>
/// A systemd unit file read the way systemd reads it (systemd.syntax(7)): <c>[Section]</c> headers, <c>Key=Value</c>
/// assignments in order (a key may repeat), <c>#</c> and <c>;</c> comment lines, and a trailing backslash that
/// continues a line.
/// </summary>
internal sealed class SystemdUnit
{
    private readonly List<(string Section, string Key, string Value)> _assignments;

    private SystemdUnit(List<(string Section, string Key, string Value)> assignments) => _assignments = assignments;

    public static SystemdUnit Parse(string text)
    {
        var assignments = new List<(string Section, string Key, string Value)>();
        string? section = null;
        string? pending = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r').Trim();
            if (line.StartsWith('#') || line.StartsWith(';'))
            {
                continue;
            }

            if (pending is not null)
            {
                line = pending + " " + line;
                pending = null;
            }

            if (line.EndsWith('\\'))
            {
                pending = line[..^1].TrimEnd();
                continue;
            }

            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                section = line[1..^1];
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (section is null || equals <= 0)
            {
                throw new FormatException($"not a section header or an assignment in a section: '{line}'");
            }

            assignments.Add((section, line[..equals].TrimEnd(), line[(equals + 1)..].TrimStart()));
        }

        return new SystemdUnit(assignments);
    }

    /// <summary>Every value assigned to <paramref name="key"/> in <paramref name="section"/>, in file order.</summary>
    public IReadOnlyList<string> Values(string section, string key) =>
        [.. _assignments.Where(a => a.Section == section && a.Key == key).Select(a => a.Value)];

    /// <summary>The one value of <paramref name="key"/>; a missing or repeated key fails the test.</summary>
    public string Single(string section, string key)
    {
        var values = Values(section, key);
        Assert.True(values.Count == 1, $"[{section}] {key}= is assigned {values.Count} times; expected once.");
        return values[0];
    }

    /// <summary>
    /// A time span in systemd's notation (systemd.time(7)): a bare number is seconds, otherwise numbers with units
    /// such as <c>40s</c>, <c>2min</c> or <c>1min 30s</c>.
    /// </summary>
    public static TimeSpan ParseTimeSpan(string value)
    {
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var bare))
        {
            return TimeSpan.FromSeconds(bare);
        }

        var total = TimeSpan.Zero;
        var rest = value.Replace(" ", "", StringComparison.Ordinal);
        while (rest.Length > 0)
        {
            var digits = 0;
            while (digits < rest.Length && (char.IsAsciiDigit(rest[digits]) || rest[digits] == '.'))
            {
                digits++;
            }

            var units = digits;
            while (units < rest.Length && char.IsAsciiLetter(rest[units]))
            {
                units++;
            }

            var number = double.Parse(rest[..digits], NumberStyles.Float, CultureInfo.InvariantCulture);
            total += rest[digits..units] switch
            {
                "ms" or "msec" => TimeSpan.FromMilliseconds(number),
                "s" or "sec" or "second" or "seconds" => TimeSpan.FromSeconds(number),
                "m" or "min" or "minute" or "minutes" => TimeSpan.FromMinutes(number),
                "h" or "hr" or "hour" or "hours" => TimeSpan.FromHours(number),
                var unit => throw new FormatException($"'{unit}' in '{value}' is not a time unit this test knows."),
            };
            rest = rest[units..];
        }

        return total;
    }
}
