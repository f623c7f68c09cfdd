using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace EgressLab.ProxyInstance.Tests.Metrics;

/// <summary>One sample line: metric name, labels (unescaped) and value.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A strict parser for the Prometheus text exposition format 0.0.4, as far as the exporter uses it:
/// every line ends in '\n'; only HELP and TYPE comments; each family's TYPE precedes its samples, which are contiguous;
/// no timestamps; no duplicate series; histograms have cumulative buckets ending in +Inf that equal _count.
/// Any deviation throws <see cref="FormatException"/>.
/// </summary>
internal sealed partial class PrometheusText
{
    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _help = new(StringComparer.Ordinal);
    private readonly List<PrometheusSample> _samples = [];

    private PrometheusText()
    {
    }

    public IReadOnlyDictionary<string, string> Types => _types;

    public IReadOnlyDictionary<string, string> Help => _help;

    public IReadOnlyList<PrometheusSample> Samples => _samples;

    public static PrometheusText Parse(string text)
    {
        var result = new PrometheusText();
        if (text.Length == 0)
        {
            return result;
        }

        if (!text.EndsWith('\n'))
        {
            throw new FormatException("The exposition does not end with a line feed.");
        }

        var lines = text[..^1].Split('\n');
        string? currentFamily = null;
        var finishedFamilies = new HashSet<string>(StringComparer.Ordinal);
        var seriesSeen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var where = $"line {i + 1} '{line}'";
            if (line.Contains('\r', StringComparison.Ordinal))
            {
                throw new FormatException($"{where}: carriage return.");
            }

            if (line.StartsWith('#'))
            {
                var match = CommentLine().Match(line);
                if (!match.Success)
                {
                    throw new FormatException($"{where}: not a HELP or TYPE line.");
                }

                var name = match.Groups["name"].Value;
                if (name != currentFamily)
                {
                    if (currentFamily is not null)
                    {
                        finishedFamilies.Add(currentFamily);
                    }

                    if (finishedFamilies.Contains(name))
                    {
                        throw new FormatException($"{where}: family {name} appears twice.");
                    }

                    currentFamily = name;
                }

                if (match.Groups["kind"].Value == "HELP")
                {
                    var help = match.Groups["rest"].Value;
                    if (!result._help.TryAdd(name, UnescapeHelp(help, where)))
                    {
                        throw new FormatException($"{where}: second HELP.");
                    }
                }
                else
                {
                    var type = match.Groups["rest"].Value;
                    if (type is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
                    {
                        throw new FormatException($"{where}: unknown type.");
                    }

                    if (!result._types.TryAdd(name, type))
                    {
                        throw new FormatException($"{where}: second TYPE.");
                    }
                }

                continue;
            }

            PrometheusSample sample;
            try
            {
                sample = ParseSample(line, where);
            }
            catch (IndexOutOfRangeException)
            {
                throw new FormatException($"{where}: line ends early.");
            }

            var family = FamilyOf(sample.Name, result._types);
            if (family is null || family != currentFamily)
            {
                throw new FormatException($"{where}: sample outside its family's block (family {family ?? "untyped"}).");
            }

            var seriesId = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
            if (!seriesSeen.Add(seriesId))
            {
                throw new FormatException($"{where}: duplicate series {seriesId}.");
            }

            result._samples.Add(sample);
        }

        result.CheckHistograms();
        return result;
    }

    /// <summary>The value of the sample with exactly these labels; throws if absent.</summary>
    public double Value(string name, params (string Name, string Value)[] labels) =>
        TryValue(name, labels, out var value)
            ? value
            : throw new KeyNotFoundException($"No sample {name} with labels [{string.Join(",", labels)}].");

    private bool TryValue(string name, (string Name, string Value)[] labels, out double value)
    {
        foreach (var sample in _samples)
        {
            if (sample.Name == name && LabelsEqual(sample.Labels, labels))
            {
                value = sample.Value;
                return true;
            }
        }

        value = 0;
        return false;
    }

    /// <summary>All samples named <paramref name="name"/>.</summary>
    public IReadOnlyList<PrometheusSample> Named(string name) => _samples.FindAll(s => s.Name == name);

    /// <summary>Cumulative bucket counts of one histogram series, keyed by <c>le</c>.</summary>
    public IReadOnlyList<(string Le, double Count)> Buckets(string family, params (string Name, string Value)[] labels)
    {
        var result = new List<(string, double)>();
        foreach (var sample in _samples)
        {
            if (sample.Name == family + "_bucket"
                && sample.Labels.TryGetValue("le", out var le)
                && LabelsEqual(sample.Labels.Where(l => l.Key != "le").ToDictionary(), labels))
            {
                result.Add((le, sample.Value));
            }
        }

        return result;
    }

    private static bool LabelsEqual(IReadOnlyDictionary<string, string> actual, (string Name, string Value)[] expected)
    {
        if (actual.Count != expected.Length)
        {
            return false;
        }

        foreach (var (name, value) in expected)
        {
            if (!actual.TryGetValue(name, out var v) || v != value)
            {
                return false;
            }
        }

        return true;
    }

    private static string? FamilyOf(string sampleName, Dictionary<string, string> types)
    {
        if (types.ContainsKey(sampleName))
        {
            return sampleName;
        }

        foreach (var suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal)
                && types.TryGetValue(sampleName[..^suffix.Length], out var type)
                && type == "histogram")
            {
                return sampleName[..^suffix.Length];
            }
        }

        return null;
    }

    private static PrometheusSample ParseSample(string line, string where)
    {
        var nameMatch = MetricName().Match(line);
        if (!nameMatch.Success)
        {
            throw new FormatException($"{where}: bad metric name.");
        }

        var position = nameMatch.Length;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (position < line.Length && line[position] == '{')
        {
            position++;
            while (line[position] != '}')
            {
                var labelMatch = LabelName().Match(line, position);
                if (!labelMatch.Success || labelMatch.Index != position)
                {
                    throw new FormatException($"{where}: bad label name at {position}.");
                }

                position += labelMatch.Length;
                if (line[position] != '=' || line[position + 1] != '"')
                {
                    throw new FormatException($"{where}: expected =\" at {position}.");
                }

                position += 2;
                var value = new StringBuilder();
                while (line[position] != '"')
                {
                    if (line[position] == '\\')
                    {
                        value.Append(line[position + 1] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw new FormatException($"{where}: bad escape at {position}."),
                        });
                        position += 2;
                    }
                    else
                    {
                        value.Append(line[position++]);
                    }
                }

                position++;
                if (!labels.TryAdd(labelMatch.Value, value.ToString()))
                {
                    throw new FormatException($"{where}: label {labelMatch.Value} twice.");
                }

                if (line[position] == ',')
                {
                    position++;
                    if (line[position] == '}')
                    {
                        throw new FormatException($"{where}: trailing comma.");
                    }
                }
                else if (line[position] != '}')
                {
                    throw new FormatException($"{where}: expected , or }} at {position}.");
                }
            }

            position++;
        }

        if (position >= line.Length || line[position] != ' ')
        {
            throw new FormatException($"{where}: expected one space before the value.");
        }

        var text = line[(position + 1)..];
        double number;
        if (text == "+Inf")
        {
            number = double.PositiveInfinity;
        }
        else if (text == "-Inf")
        {
            number = double.NegativeInfinity;
        }
        else if (text == "NaN")
        {
            number = double.NaN;
        }
        else if (!NumberText().IsMatch(text) || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number))
        {
            throw new FormatException($"{where}: bad value '{text}'.");
        }

        return new PrometheusSample(nameMatch.Value, labels, number);
    }

    private static string UnescapeHelp(string help, string where)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < help.Length; i++)
        {
            if (help[i] != '\\')
            {
                builder.Append(help[i]);
                continue;
            }

            builder.Append(i + 1 < help.Length ? help[++i] switch
            {
                '\\' => '\\',
                'n' => '\n',
                _ => throw new FormatException($"{where}: bad HELP escape."),
            } : throw new FormatException($"{where}: dangling backslash."));
        }

        return builder.ToString();
    }

    private void CheckHistograms()
    {
        foreach (var (family, type) in _types)
        {
            if (type != "histogram")
            {
                continue;
            }

            var groups = _samples
                .Where(s => s.Name == family + "_bucket")
                .GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)));
            foreach (var group in groups)
            {
                var buckets = group.ToList();
                var previousLe = double.NegativeInfinity;
                var previousCount = 0.0;
                foreach (var bucket in buckets)
                {
                    var le = bucket.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(bucket.Labels["le"], CultureInfo.InvariantCulture);
                    if (le <= previousLe || bucket.Value < previousCount)
                    {
                        throw new FormatException($"{family}{{{group.Key}}}: buckets not increasing or not cumulative.");
                    }

                    previousLe = le;
                    previousCount = bucket.Value;
                }

                if (!double.IsPositiveInfinity(previousLe))
                {
                    throw new FormatException($"{family}{{{group.Key}}}: no +Inf bucket last.");
                }

                var labels = buckets[0].Labels.Where(l => l.Key != "le").Select(l => (l.Key, l.Value)).ToArray();
                if (!TryValue(family + "_count", labels, out var count) || count != previousCount)
                {
                    throw new FormatException($"{family}{{{group.Key}}}: _count missing or not the +Inf bucket.");
                }

                if (!TryValue(family + "_sum", labels, out _))
                {
                    throw new FormatException($"{family}{{{group.Key}}}: _sum missing.");
                }
            }
        }
    }

    [GeneratedRegex("^# (?<kind>HELP|TYPE) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?: (?<rest>.*))?$")]
    private static partial Regex CommentLine();

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex MetricName();

    [GeneratedRegex("[a-zA-Z_][a-zA-Z0-9_]*")]
    private static partial Regex LabelName();

    [GeneratedRegex(@"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")]
    private static partial Regex NumberText();
}
