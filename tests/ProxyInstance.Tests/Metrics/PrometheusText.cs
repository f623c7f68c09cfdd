using System.Globalization;
using System.Text.RegularExpressions;

namespace EgressLab.ProxyInstance.Tests.Metrics;

/// <summary>One sample line: metric name, labels (unescaped) and value.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// Reads the samples, TYPE and HELP lines of a Prometheus text exposition, so tests can assert values. It does not judge
/// the format: <see cref="Promtool"/> checks the endpoint's real output with Prometheus's own parser and linter.
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
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (CommentLine().Match(line) is { Success: true } comment)
            {
                (comment.Groups["kind"].Value == "HELP" ? result._help : result._types)[comment.Groups["name"].Value] = comment.Groups["rest"].Value;
            }
            else if (!line.StartsWith('#'))
            {
                var sample = SampleLine().Match(line);
                if (!sample.Success)
                {
                    throw new FormatException($"Not a sample line: '{line}'.");
                }

                var labels = LabelPair().Matches(sample.Groups["labels"].Value)
                    .ToDictionary(m => m.Groups["name"].Value, m => Regex.Unescape(m.Groups["value"].Value), StringComparer.Ordinal);
                var value = sample.Groups["value"].Value switch
                {
                    "+Inf" => double.PositiveInfinity,
                    "-Inf" => double.NegativeInfinity,
                    var number => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
                };
                result._samples.Add(new PrometheusSample(sample.Groups["name"].Value, labels, value));
            }
        }

        return result;
    }

    /// <summary>The value of the sample with exactly these labels; throws if absent.</summary>
    public double Value(string name, params (string Name, string Value)[] labels) =>
        _samples.Find(s => s.Name == name && LabelsEqual(s.Labels, labels)) is { } sample
            ? sample.Value
            : throw new KeyNotFoundException($"No sample {name} with labels [{string.Join(",", labels)}].");

    /// <summary>All samples named <paramref name="name"/>.</summary>
    public IReadOnlyList<PrometheusSample> Named(string name) => _samples.FindAll(s => s.Name == name);

    /// <summary>Cumulative bucket counts of one histogram series, keyed by <c>le</c>.</summary>
    public IReadOnlyList<(string Le, double Count)> Buckets(string family, params (string Name, string Value)[] labels) =>
        [.. _samples
            .Where(s => s.Name == family + "_bucket" && s.Labels.ContainsKey("le") && LabelsEqual(s.Labels.Where(l => l.Key != "le").ToDictionary(), labels))
            .Select(s => (s.Labels["le"], s.Value))];

    private static bool LabelsEqual(IReadOnlyDictionary<string, string> actual, (string Name, string Value)[] expected) =>
        actual.Count == expected.Length && expected.All(e => actual.TryGetValue(e.Name, out var v) && v == e.Value);

    [GeneratedRegex("^# (?<kind>HELP|TYPE) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?: (?<rest>.*))?$")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>.*)\})? (?<value>\S+)(?: -?[0-9]+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""(?<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(?:[^"\\]|\\.)*)",?""")]
    private static partial Regex LabelPair();
}
