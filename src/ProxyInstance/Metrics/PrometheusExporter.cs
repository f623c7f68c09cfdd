using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace EgressLab.ProxyInstance.Metrics;

/// <summary>
/// Aggregates the measurements of every instrument on meters named <c>EgressLab.*</c> and renders them in the
/// Prometheus text exposition format 0.0.4. Counters keep a sum per tag set, up-down counters a sum (exposed as a gauge),
/// synchronous and observable gauges the last value, histograms fixed buckets plus <c>_sum</c> and <c>_count</c>.
/// </summary>
/// <remarks>
/// Recording costs a lock-free dictionary lookup keyed by the measurement's tags themselves (no key is allocated once a
/// tag combination has been seen, as long as tag values are strings) and one or two interlocked operations.
/// </remarks>
internal sealed class PrometheusExporter : IDisposable
{
    public const string MeterNamePrefix = "EgressLab.";

    /// <summary>The content type of the text exposition format this class writes.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Tag combinations kept per instrument; measurements with further combinations go to one series labelled <c>overflow="true"</c>.</summary>
    public const int MaxSeriesPerInstrument = 2000;

    /// <summary>Bucket upper bounds, in seconds, for histograms whose instrument gives no bucket advice.</summary>
    public static IReadOnlyList<double> DefaultBuckets { get; } = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly MeterListener _listener;
    private readonly object? _scope;
    private readonly Lock _familiesLock = new();
    private readonly Dictionary<string, Family> _families = new(StringComparer.Ordinal);
    private readonly Lock _collectLock = new();
    private int _generation;

    /// <summary>Exports every <c>EgressLab.*</c> meter in the process.</summary>
    public PrometheusExporter()
        : this(scope: null)
    {
    }

    /// <summary>Exports only the <c>EgressLab.*</c> meters created by <paramref name="meterFactory"/>, e.g. the application's.</summary>
    public PrometheusExporter(IMeterFactory meterFactory)
        : this(scope: meterFactory ?? throw new ArgumentNullException(nameof(meterFactory)))
    {
    }

    private PrometheusExporter(object? scope)
    {
        _scope = scope;
        _listener = new MeterListener { InstrumentPublished = OnInstrumentPublished };
        // A measurement can arrive without its family while another thread disposes the instrument's meter.
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => (state as Family)?.Record((long)value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => (state as Family)?.Record((long)value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => (state as Family)?.Record((long)value, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => (state as Family)?.Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => (state as Family)?.Record((double)value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => (state as Family)?.Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, value, tags, state) => (state as Family)?.Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>Collects observable instruments and writes every metric family, sorted by name.</summary>
    public void WriteTo(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        lock (_collectLock)
        {
            // Observable instruments report now; a series they no longer report is stale and left out.
            var generation = Interlocked.Increment(ref _generation);
            _listener.RecordObservableInstruments();

            Family[] families;
            lock (_familiesLock)
            {
                families = [.. _families.Values];
            }

            Array.Sort(families, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            foreach (var family in families)
            {
                family.Write(writer, generation);
            }
        }
    }

    /// <summary>The exposition text, as <see cref="WriteTo"/> writes it.</summary>
    public string Render()
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        WriteTo(writer);
        return writer.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private int CurrentGeneration => Volatile.Read(ref _generation);

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!instrument.Meter.Name.StartsWith(MeterNamePrefix, StringComparison.Ordinal)
            || (_scope is not null && !ReferenceEquals(instrument.Meter.Scope, _scope))
            || !TryDescribe(instrument, out var kind, out var floating))
        {
            return;
        }

        var name = SanitizeMetricName(instrument.Name);
        Family family;
        lock (_familiesLock)
        {
            if (_families.TryGetValue(name, out var existing))
            {
                // Another instrument of the same name (e.g. the same meter created twice) shares the series
                // when it aggregates the same way; a conflicting one is left out rather than printed twice.
                if (existing.Kind != kind || existing.Floating != floating)
                {
                    return;
                }

                family = existing;
            }
            else
            {
                family = new Family(this, name, instrument.Description, kind, floating, kind == Kind.Histogram ? BucketsFor(instrument) : []);
                _families.Add(name, family);
            }
        }

        listener.EnableMeasurementEvents(instrument, family);
    }

    private static bool TryDescribe(Instrument instrument, out Kind kind, out bool floating)
    {
        kind = default;
        floating = false;
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return false;
        }

        var definition = type.GetGenericTypeDefinition();
        if (definition == typeof(Counter<>))
        {
            kind = Kind.Counter;
        }
        else if (definition == typeof(UpDownCounter<>))
        {
            kind = Kind.UpDownCounter;
        }
        else if (definition == typeof(Histogram<>))
        {
            kind = Kind.Histogram;
        }
        else if (definition == typeof(Gauge<>))
        {
            kind = Kind.Gauge;
        }
        else if (definition == typeof(ObservableCounter<>))
        {
            kind = Kind.ObservableCounter;
        }
        else if (definition == typeof(ObservableUpDownCounter<>) || definition == typeof(ObservableGauge<>))
        {
            kind = Kind.ObservableGauge;
        }
        else
        {
            return false;
        }

        var argument = type.GetGenericArguments()[0];
        floating = argument == typeof(double) || argument == typeof(float) || argument == typeof(decimal);
        return true;
    }

    private static double[] BucketsFor(Instrument instrument)
    {
        IEnumerable<double>? advised = instrument switch
        {
            Instrument<double> i => i.Advice?.HistogramBucketBoundaries,
            Instrument<float> i => i.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b),
            Instrument<long> i => i.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b),
            Instrument<int> i => i.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b),
            Instrument<short> i => i.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b),
            Instrument<byte> i => i.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b),
            Instrument<decimal> i => i.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b),
            _ => null,
        };

        // InstrumentAdvice already insists on strictly increasing bounds; +Inf is always added as the last bucket.
        double[] bounds = advised is null ? [.. DefaultBuckets] : [.. advised];
        return bounds.Length > 0 && double.IsPositiveInfinity(bounds[^1]) ? bounds[..^1] : bounds;
    }

    /// <summary>Metric names must match <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>; anything else (e.g. the dots of OpenTelemetry names) becomes '_'.</summary>
    internal static string SanitizeMetricName(string name) => Sanitize(name, allowColon: true);

    /// <summary>Label names must match <c>[a-zA-Z_][a-zA-Z0-9_]*</c>.</summary>
    internal static string SanitizeLabelName(string name) => Sanitize(name, allowColon: false);

    private static string Sanitize(string name, bool allowColon)
    {
        var valid = name.Length > 0 && !char.IsAsciiDigit(name[0]);
        foreach (var c in name)
        {
            valid &= char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':');
        }

        if (valid)
        {
            return name;
        }

        var builder = new StringBuilder(name.Length + 1);
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            builder.Append('_');
        }

        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':') ? c : '_');
        }

        return builder.ToString();
    }

    private enum Kind
    {
        Counter,
        UpDownCounter,
        Histogram,
        Gauge,
        ObservableCounter,
        ObservableGauge,
    }

    /// <summary>One metric name: its metadata and its series, one per distinct tag combination.</summary>
    private sealed class Family
    {
        private static readonly KeyValuePair<string, object?>[] OverflowTags = [new("overflow", "true")];

        private readonly PrometheusExporter _owner;
        private readonly string? _help;
        private readonly double[] _bounds;
        private readonly ConcurrentDictionary<SeriesKey, Series> _series = new(SeriesKeyComparer.Instance);
        private readonly ConcurrentDictionary<SeriesKey, Series>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _lookup;
        private int _seriesCount;

        public Family(PrometheusExporter owner, string name, string? help, Kind kind, bool floating, double[] bounds)
        {
            _owner = owner;
            Name = name;
            _help = help;
            Kind = kind;
            Floating = floating;
            _bounds = bounds;
            _lookup = _series.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
        }

        public string Name { get; }

        public Kind Kind { get; }

        public bool Floating { get; }

        private bool IsObservable => Kind is Kind.ObservableCounter or Kind.ObservableGauge;

        public void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (Floating || Kind == Kind.Histogram)
            {
                Record((double)value, tags);
                return;
            }

            var series = GetSeries(tags);
            if (Kind is Kind.Counter or Kind.UpDownCounter)
            {
                Interlocked.Add(ref series.Long, value);
            }
            else
            {
                Volatile.Write(ref series.Long, value);
                Volatile.Write(ref series.Generation, _owner.CurrentGeneration);
            }
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (!Floating && Kind != Kind.Histogram)
            {
                Record((long)value, tags);
                return;
            }

            if (Kind == Kind.Histogram)
            {
                if (double.IsNaN(value))
                {
                    return;
                }

                var histogram = GetSeries(tags);
                var bucket = 0;
                while (bucket < _bounds.Length && value > _bounds[bucket])
                {
                    bucket++;
                }

                Interlocked.Increment(ref histogram.Buckets![bucket]);
                AddDouble(ref histogram.Double, value);
                return;
            }

            var series = GetSeries(tags);
            if (Kind is Kind.Counter or Kind.UpDownCounter)
            {
                AddDouble(ref series.Double, value);
            }
            else
            {
                Volatile.Write(ref series.Double, value);
                Volatile.Write(ref series.Generation, _owner.CurrentGeneration);
            }
        }

        public void Write(TextWriter writer, int generation)
        {
            writer.Write("# HELP ");
            writer.Write(Name);
            if (!string.IsNullOrEmpty(_help))
            {
                writer.Write(' ');
                WriteEscaped(writer, _help, escapeQuote: false);
            }

            writer.Write("\n# TYPE ");
            writer.Write(Name);
            writer.Write(Kind switch
            {
                Kind.Counter or Kind.ObservableCounter => " counter\n",
                Kind.Histogram => " histogram\n",
                _ => " gauge\n",
            });

            var series = _series.Values.ToArray();
            if (series.Length == 0)
            {
                // An instrument nothing has been recorded on yet: show its zero, unless it is a gauge with no value to show.
                if (Kind is Kind.Counter or Kind.UpDownCounter or Kind.Histogram)
                {
                    WriteSeries(writer, new Series(SeriesKey.Empty, Kind == Kind.Histogram ? _bounds.Length : -1));
                }

                return;
            }

            Array.Sort(series, static (a, b) => string.CompareOrdinal(a.Key.Labels, b.Key.Labels));
            foreach (var s in series)
            {
                if (!IsObservable || Volatile.Read(ref s.Generation) == generation)
                {
                    WriteSeries(writer, s);
                }
            }
        }

        private void WriteSeries(TextWriter writer, Series series)
        {
            var labels = series.Key.Labels;
            if (Kind != Kind.Histogram)
            {
                WriteSample(writer, Name, null, labels, null);
                WriteNumber(writer, series);
                return;
            }

            var cumulative = 0L;
            for (var i = 0; i <= _bounds.Length; i++)
            {
                cumulative += Volatile.Read(ref series.Buckets![i]);
                WriteSample(writer, Name, "_bucket", labels, i < _bounds.Length ? FormatDouble(_bounds[i]) : "+Inf");
                WriteLong(writer, cumulative);
            }

            WriteSample(writer, Name, "_sum", labels, null);
            WriteDouble(writer, Volatile.Read(ref series.Double));
            WriteSample(writer, Name, "_count", labels, null);

            // The count is the +Inf bucket as read above, so the two agree even while measurements arrive.
            WriteLong(writer, cumulative);
        }

        private void WriteNumber(TextWriter writer, Series series)
        {
            if (Floating)
            {
                WriteDouble(writer, Volatile.Read(ref series.Double));
            }
            else
            {
                WriteLong(writer, Volatile.Read(ref series.Long));
            }
        }

        private Series GetSeries(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (_lookup.TryGetValue(tags, out var series))
            {
                return series;
            }

            if (Volatile.Read(ref _seriesCount) >= MaxSeriesPerInstrument)
            {
                tags = OverflowTags;
                if (_lookup.TryGetValue(tags, out series))
                {
                    return series;
                }
            }

            var key = SeriesKey.Create(tags);
            if (_series.TryGetValue(key, out series))
            {
                // The tags held a repeated name, which the stored key dropped; still the same series.
                return series;
            }

            var created = new Series(key, Kind == Kind.Histogram ? _bounds.Length : -1);
            series = _series.GetOrAdd(key, created);
            if (ReferenceEquals(series, created))
            {
                Interlocked.Increment(ref _seriesCount);
            }

            return series;
        }

        private static void AddDouble(ref double target, double value)
        {
            var current = Volatile.Read(ref target);
            while (true)
            {
                var observed = Interlocked.CompareExchange(ref target, current + value, current);
                if (observed.Equals(current))
                {
                    return;
                }

                current = observed;
            }
        }
    }

    /// <summary>The running values of one tag combination. Which fields are used depends on the family's kind.</summary>
    private sealed class Series(SeriesKey key, int bucketBounds)
    {
        public SeriesKey Key { get; } = key;

        // Fields, not properties: the record path passes them by reference to Interlocked.
        public long Long;
        public double Double;
        public int Generation;
        public readonly long[]? Buckets = bucketBounds >= 0 ? new long[bucketBounds + 1] : null;
    }

    /// <summary>A stored tag combination: names and canonical value texts, sorted by label name, and its rendered label list.</summary>
    private sealed class SeriesKey
    {
        public static readonly SeriesKey Empty = new([], [], 0, string.Empty);

        private SeriesKey(string[] names, string[] values, int hash, string labels)
        {
            Names = names;
            Values = values;
            Hash = hash;
            Labels = labels;
        }

        public string[] Names { get; }

        public string[] Values { get; }

        public int Hash { get; }

        /// <summary><c>a="x",b="y"</c>, escaped, without braces; empty for no tags.</summary>
        public string Labels { get; }

        public static SeriesKey Create(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var pairs = new List<(string Label, string Name, string Value)>(tags.Length);
            Span<char> scratch = stackalloc char[64];
            var hash = 0;
            foreach (var tag in tags)
            {
                var label = SanitizeLabelName(tag.Key);
                var duplicate = false;
                foreach (var pair in pairs)
                {
                    duplicate |= pair.Name == tag.Key || pair.Label == label;
                }

                if (duplicate)
                {
                    continue;
                }

                var value = ValueText(tag.Value, scratch).ToString();
                pairs.Add((label, tag.Key, value));
                hash += TagHash(tag.Key, value);
            }

            pairs.Sort(static (a, b) => string.CompareOrdinal(a.Label, b.Label));
            var names = new string[pairs.Count];
            var values = new string[pairs.Count];
            var labels = new StringBuilder();
            for (var i = 0; i < pairs.Count; i++)
            {
                names[i] = pairs[i].Name;
                values[i] = pairs[i].Value;
                if (i > 0)
                {
                    labels.Append(',');
                }

                labels.Append(pairs[i].Label).Append("=\"");
                AppendEscaped(labels, pairs[i].Value);
                labels.Append('"');
            }

            return new SeriesKey(names, values, hash, labels.ToString());
        }

        // Order-independent, so a caller passing the same tags in another order lands on the same series.
        public static int TagHash(string name, ReadOnlySpan<char> value) =>
            HashCode.Combine(name.GetHashCode(StringComparison.Ordinal), string.GetHashCode(value, StringComparison.Ordinal));

        /// <summary>The text a tag value is exported as. Strings and null need no formatting; other values format into <paramref name="scratch"/>.</summary>
        public static ReadOnlySpan<char> ValueText(object? value, Span<char> scratch)
        {
            switch (value)
            {
                case null:
                    return [];
                case string s:
                    return s;
                case bool b:
                    return b ? "true" : "false";
                case ISpanFormattable formattable when formattable.TryFormat(scratch, out var written, default, CultureInfo.InvariantCulture):
                    return scratch[..written];
                case IFormattable formattable:
                    return formattable.ToString(null, CultureInfo.InvariantCulture);
                default:
                    return value.ToString();
            }
        }
    }

    private sealed class SeriesKeyComparer : IEqualityComparer<SeriesKey>, IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, SeriesKey>
    {
        public static readonly SeriesKeyComparer Instance = new();

        public bool Equals(SeriesKey? x, SeriesKey? y) =>
            ReferenceEquals(x, y)
            || (x is not null && y is not null && x.Hash == y.Hash && x.Names.AsSpan().SequenceEqual(y.Names) && x.Values.AsSpan().SequenceEqual(y.Values));

        public int GetHashCode(SeriesKey obj) => obj.Hash;

        public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, SeriesKey other)
        {
            if (alternate.Length != other.Names.Length)
            {
                return false;
            }

            Span<char> scratch = stackalloc char[64];
            foreach (var tag in alternate)
            {
                var index = Array.IndexOf(other.Names, tag.Key);
                if (index < 0 || !SeriesKey.ValueText(tag.Value, scratch).SequenceEqual(other.Values[index]))
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate)
        {
            Span<char> scratch = stackalloc char[64];
            var hash = 0;
            foreach (var tag in alternate)
            {
                hash += SeriesKey.TagHash(tag.Key, SeriesKey.ValueText(tag.Value, scratch));
            }

            return hash;
        }

        public SeriesKey Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => SeriesKey.Create(alternate);
    }

    private static string FormatDouble(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Writes <c>name[suffix]{labels[,le="..."]} </c>, leaving the value to the caller.</summary>
    private static void WriteSample(TextWriter writer, string name, string? suffix, string labels, string? le)
    {
        writer.Write(name);
        writer.Write(suffix);
        if (labels.Length > 0 || le is not null)
        {
            writer.Write('{');
            writer.Write(labels);
            if (le is not null)
            {
                writer.Write(labels.Length > 0 ? ",le=\"" : "le=\"");
                writer.Write(le);
                writer.Write('"');
            }

            writer.Write('}');
        }

        writer.Write(' ');
    }

    private static void WriteLong(TextWriter writer, long value)
    {
        writer.Write(value.ToString(CultureInfo.InvariantCulture));
        writer.Write('\n');
    }

    private static void WriteDouble(TextWriter writer, double value)
    {
        writer.Write(FormatDouble(value));
        writer.Write('\n');
    }

    /// <summary>Text format 0.0.4: label values escape backslash, double quote and line feed; HELP text only backslash and line feed.</summary>
    private static void WriteEscaped(TextWriter writer, string text, bool escapeQuote)
    {
        var builder = new StringBuilder(text.Length);
        AppendEscaped(builder, text, escapeQuote);
        writer.Write(builder);
    }

    private static void AppendEscaped(StringBuilder builder, string text, bool escapeQuote = true)
    {
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\':
                    builder.Append(@"\\");
                    break;
                case '\n':
                    builder.Append(@"\n");
                    break;
                case '"' when escapeQuote:
                    builder.Append("\\\"");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }
    }
}
