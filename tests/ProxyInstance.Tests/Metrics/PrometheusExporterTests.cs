using System.Diagnostics.Metrics;
using EgressLab.ProxyInstance.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace EgressLab.ProxyInstance.Tests.Metrics;

/// <remarks>
/// Every test here that uses an unscoped exporter (which listens to all <c>EgressLab.*</c> meters in the process) lives in this
/// one class, so those exporters never run alongside the allocation test; each uses a meter name of its own.
/// </remarks>
public sealed class PrometheusExporterTests
{
    [Fact]
    public void Render_LabelValuesAndHelp_AreEscaped()
    {
        using var meter = NewMeter();
        using var exporter = new PrometheusExporter();
        var counter = meter.CreateCounter<long>("escape_total", null, "Back\\slash and\nnew line, \"quotes\" stay.");
        counter.Add(5, new KeyValuePair<string, object?>("path", "C:\\dir\\\"name\"\nnext"));

        var raw = exporter.Render();
        var text = PrometheusText.Parse(raw);

        Assert.Contains("escape_total{path=\"C:\\\\dir\\\\\\\"name\\\"\\nnext\"} 5\n", raw, StringComparison.Ordinal);
        Assert.Contains("# HELP escape_total Back\\\\slash and\\nnew line, \"quotes\" stay.\n", raw, StringComparison.Ordinal);
        Assert.Equal(5, text.Value("escape_total", ("path", "C:\\dir\\\"name\"\nnext")));
        Assert.Equal("Back\\slash and\nnew line, \"quotes\" stay.", text.Help["escape_total"]);
    }

    [Fact]
    public void Record_TagsInAnyOrder_LandInOneSeries()
    {
        using var meter = NewMeter();
        using var exporter = new PrometheusExporter();
        var counter = meter.CreateCounter<long>("order_total");
        counter.Add(1, new("a", "1"), new("b", "2"));
        counter.Add(2, new("b", "2"), new("a", "1"));
        counter.Add(4, new KeyValuePair<string, object?>("a", "1"));

        var raw = exporter.Render();
        var text = PrometheusText.Parse(raw);

        Assert.Equal(3, text.Value("order_total", ("a", "1"), ("b", "2")));
        Assert.Equal(4, text.Value("order_total", ("a", "1")));
        Assert.Contains("order_total{a=\"1\",b=\"2\"} 3\n", raw, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_NonStringTagValues_AreFormattedInvariantly()
    {
        using var meter = NewMeter();
        using var exporter = new PrometheusExporter();
        var counter = meter.CreateCounter<int>("typed_total");
        counter.Add(1, new("port", 443), new("tls", true), new("ratio", 0.5), new("none", null));
        counter.Add(1, new("port", 443), new("tls", true), new("ratio", 0.5), new("none", null));

        var text = PrometheusText.Parse(exporter.Render());

        Assert.Equal(2, text.Value("typed_total", ("port", "443"), ("tls", "true"), ("ratio", "0.5"), ("none", "")));
    }

    [Fact]
    public void Render_InstrumentAndTagNames_AreSanitized()
    {
        using var meter = NewMeter();
        using var exporter = new PrometheusExporter();
        meter.CreateCounter<long>("http.client-requests").Add(1, new KeyValuePair<string, object?>("url.scheme", "https"));
        meter.CreateCounter<long>("9lives").Add(1);

        var text = PrometheusText.Parse(exporter.Render());

        Assert.Equal(1, text.Value("http_client_requests", ("url_scheme", "https")));
        Assert.Equal(1, text.Value("_9lives"));
    }

    [Fact]
    public void Record_DoubleCounterAndUpDownCounter_SumExactly()
    {
        using var meter = NewMeter();
        using var exporter = new PrometheusExporter();
        var seconds = meter.CreateCounter<double>("cpu_seconds_total");
        seconds.Add(0.25);
        seconds.Add(1.5);
        var queue = meter.CreateUpDownCounter<int>("queue_depth");
        queue.Add(5);
        queue.Add(-7);

        var text = PrometheusText.Parse(exporter.Render());

        Assert.Equal(1.75, text.Value("cpu_seconds_total"));
        Assert.Equal(-2, text.Value("queue_depth"));
        Assert.Equal("gauge", text.Types["queue_depth"]);
    }

    [Fact]
    public void Record_HistogramBoundaryValues_AreInclusiveUpperBounds()
    {
        using var meter = NewMeter();
        using var exporter = new PrometheusExporter();
        var histogram = meter.CreateHistogram<double>("latency_seconds");
        foreach (var value in (double[])[0.001, 0.0010001, 10, 10.5, -1, double.NaN])
        {
            histogram.Record(value, new KeyValuePair<string, object?>("op", "x"));
        }

        var text = PrometheusText.Parse(exporter.Render());
        var buckets = text.Buckets("latency_seconds", ("op", "x")).ToDictionary(b => b.Le, b => b.Count);

        Assert.Equal(1, buckets["0.0005"]);
        Assert.Equal(2, buckets["0.001"]);
        Assert.Equal(3, buckets["0.0025"]);
        Assert.Equal(4, buckets["10"]);
        Assert.Equal(5, buckets["+Inf"]);
        Assert.Equal(5, text.Value("latency_seconds_count", ("op", "x")));
        Assert.Equal(0.001 + 0.0010001 + 10 + 10.5 - 1, text.Value("latency_seconds_sum", ("op", "x")), 1e-12);
    }

    [Fact]
    public void Record_HistogramWithAdvice_UsesAdvisedBuckets()
    {
        using var meter = NewMeter();
        using var exporter = new PrometheusExporter();
        var sizes = meter.CreateHistogram("body_bytes", "By", "Body sizes.", tags: null, new InstrumentAdvice<long> { HistogramBucketBoundaries = [100, 1000] });
        sizes.Record(50);
        sizes.Record(100);
        sizes.Record(5000);

        var text = PrometheusText.Parse(exporter.Render());

        Assert.Equal([("100", 2), ("1000", 2), ("+Inf", 3)], text.Buckets("body_bytes"));
        Assert.Equal(5150, text.Value("body_bytes_sum"));
    }

    [Fact]
    public void Render_ObservableInstruments_ReportCurrentValuesOnly()
    {
        using var meter = NewMeter();
        using var exporter = new PrometheusExporter();
        var pools = new List<Measurement<long>> { new(3, new KeyValuePair<string, object?>("pool", "a")), new(4, new KeyValuePair<string, object?>("pool", "b")) };
        meter.CreateObservableGauge("pool_size", () => pools);
        var total = 10L;
        meter.CreateObservableCounter("observed_total", () => total);
        var gauge = meter.CreateGauge<double>("temperature");
        gauge.Record(21.5);
        gauge.Record(19.25);

        var first = PrometheusText.Parse(exporter.Render());
        Assert.Equal(3, first.Value("pool_size", ("pool", "a")));
        Assert.Equal(4, first.Value("pool_size", ("pool", "b")));
        Assert.Equal(10, first.Value("observed_total"));
        Assert.Equal("counter", first.Types["observed_total"]);
        Assert.Equal(19.25, first.Value("temperature"));

        pools.RemoveAt(0);
        total = 12;
        var second = PrometheusText.Parse(exporter.Render());
        Assert.Single(second.Named("pool_size"));
        Assert.Equal(4, second.Value("pool_size", ("pool", "b")));
        Assert.Equal(12, second.Value("observed_total"));
    }

    [Fact]
    public void Render_UnrecordedInstruments_PrintTypeAndZeroSample()
    {
        using var meter = NewMeter();
        using var exporter = new PrometheusExporter();
        meter.CreateCounter<long>("idle_total", null, "Never incremented.");
        meter.CreateHistogram<double>("idle_seconds");
        meter.CreateGauge<long>("idle_gauge");

        var raw = exporter.Render();
        var text = PrometheusText.Parse(raw);

        Assert.Contains("# HELP idle_total Never incremented.\n# TYPE idle_total counter\nidle_total 0\n", raw, StringComparison.Ordinal);
        Assert.Equal(0, text.Value("idle_seconds_count"));
        Assert.All(text.Buckets("idle_seconds"), b => Assert.Equal(0, b.Count));
        Assert.Equal("gauge", text.Types["idle_gauge"]);
        Assert.Empty(text.Named("idle_gauge"));
    }

    [Fact]
    public void Render_OtherMeters_AreNotExported()
    {
        using var foreign = new Meter("Other.Library." + Guid.NewGuid().ToString("N"));
        using var exporter = new PrometheusExporter();
        var name = "foreign_total_" + Guid.NewGuid().ToString("N");
        foreign.CreateCounter<long>(name).Add(1);

        Assert.DoesNotContain(name, exporter.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ScopedExporter_SeesOnlyItsFactorysMeters()
    {
        using var mine = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var theirs = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var exporter = new PrometheusExporter(mine.GetRequiredService<IMeterFactory>());
        var name = "scoped_" + Guid.NewGuid().ToString("N");
        mine.GetRequiredService<IMeterFactory>().Create("EgressLab.Scoped").CreateCounter<long>(name + "_mine").Add(2);
        theirs.GetRequiredService<IMeterFactory>().Create("EgressLab.Scoped").CreateCounter<long>(name + "_theirs").Add(3);

        var text = PrometheusText.Parse(exporter.Render());

        Assert.Equal(2, text.Value(name + "_mine"));
        Assert.False(text.Types.ContainsKey(name + "_theirs"));
    }

    [Fact]
    public void Record_InstrumentCreatedAfterExporter_IsExported()
    {
        using var exporter = new PrometheusExporter();
        using var meter = NewMeter();
        meter.CreateCounter<long>("late_total").Add(6);

        Assert.Equal(6, PrometheusText.Parse(exporter.Render()).Value("late_total"));
    }

    [Fact]
    public void Record_SameNameOnTwoMeters_MergesCompatibleAndDropsConflicting()
    {
        using var first = NewMeter();
        using var second = NewMeter();
        using var exporter = new PrometheusExporter();
        var name = "shared_" + Guid.NewGuid().ToString("N");
        first.CreateCounter<long>(name).Add(1);
        second.CreateCounter<long>(name).Add(2);
        second.CreateHistogram<double>(name).Record(1);

        var text = PrometheusText.Parse(exporter.Render());

        Assert.Equal("counter", text.Types[name]);
        Assert.Equal(3, text.Value(name));
    }

    [Fact]
    public void Record_MoreTagSetsThanTheLimit_FoldsTheRestIntoOverflow()
    {
        using var meter = NewMeter();
        using var exporter = new PrometheusExporter();
        var counter = meter.CreateCounter<long>("wide_total");
        for (var i = 0; i < PrometheusExporter.MaxSeriesPerInstrument + 5; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("id", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        counter.Add(1, new KeyValuePair<string, object?>("id", "0"));

        var text = PrometheusText.Parse(exporter.Render());

        Assert.Equal(PrometheusExporter.MaxSeriesPerInstrument + 1, text.Named("wide_total").Count);
        Assert.Equal(5, text.Value("wide_total", ("overflow", "true")));
        Assert.Equal(2, text.Value("wide_total", ("id", "0")));
    }

    [Fact]
    public async Task Record_ManyTasksOnFreshTagSets_TotalsAreExact()
    {
        using var meter = NewMeter();
        using var exporter = new PrometheusExporter();
        var counter = meter.CreateCounter<long>("race_total");
        var histogram = meter.CreateHistogram<double>("race_seconds");
        var sum = meter.CreateCounter<double>("race_double_total");
        const int Tasks = 12;
        const int Iterations = 3000;

        // All tasks race to create the same series at the same moment.
        using var barrier = new Barrier(Tasks);
        var workers = new Task[Tasks];
        for (var t = 0; t < Tasks; t++)
        {
            // Dedicated threads: pool threads blocked at the barrier would wait for the pool to grow.
            workers[t] = Task.Factory.StartNew(
                () =>
                {
                    barrier.SignalAndWait(TestContext.Current.CancellationToken);
                    for (var i = 0; i < Iterations; i++)
                    {
                        var key = (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture);
                        counter.Add(1, new KeyValuePair<string, object?>("k", key));
                        histogram.Record(0.5, new KeyValuePair<string, object?>("k", key));
                        sum.Add(0.5);
                    }
                },
                TestContext.Current.CancellationToken,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAll(workers);
        var text = PrometheusText.Parse(exporter.Render());

        var perKey = (double)Tasks * Iterations / 3;
        for (var k = 0; k < 3; k++)
        {
            var key = k.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(perKey, text.Value("race_total", ("k", key)));
            Assert.Equal(perKey, text.Value("race_seconds_count", ("k", key)));
            Assert.Equal(perKey * 0.5, text.Value("race_seconds_sum", ("k", key)));
        }

        Assert.Equal(Tasks * Iterations * 0.5, text.Value("race_double_total"));
    }

    [Fact]
    public void Record_KnownTagSet_DoesNotAllocate()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var exporter = new PrometheusExporter(factory);
        using var metrics = new ProxyMetrics(factory);
        var rule = "rule-" + Guid.NewGuid().ToString("N");

        // Warm up: the first measurement of each tag set creates its series (and JIT-compiles the path).
        Record(metrics, rule);
        Record(metrics, rule);

        var (allocated, rounds) = TestHost.Allocations.Least(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                Record(metrics, rule);
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(2 + (1000 * rounds), PrometheusText.Parse(exporter.Render()).Value("proxy_requests_total", ("decision", "allow"), ("rule", rule), ("kind", "http")));

        static void Record(ProxyMetrics metrics, string rule)
        {
            metrics.RecordRequest(EgressLab.ProxyInstance.Admission.DecisionLabels.Allow, rule, "http");
            metrics.RecordError("ERR_DNS_FAIL");
            metrics.RecordReload(ok: true, ProxyMetrics.FileSource);
            metrics.AddBytes(10, 20);
            metrics.TunnelOpened();
            metrics.TunnelClosed();
            metrics.RecordDns(TimeSpan.FromMilliseconds(3));
            metrics.SniMismatch();
        }
    }

    private static Meter NewMeter() => new("EgressLab.Test." + Guid.NewGuid().ToString("N"));
}
