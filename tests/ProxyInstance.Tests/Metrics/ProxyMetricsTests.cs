using System.Diagnostics.Metrics;
using EgressLab.ProxyInstance.Metrics;
using Microsoft.Extensions.DependencyInjection;
using EgressLab.ProxyInstance.Admission;

namespace EgressLab.ProxyInstance.Tests.Metrics;

public sealed class ProxyMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly PrometheusExporter _exporter;
    private readonly ProxyMetrics _metrics;

    public ProxyMetricsTests()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();

        // Scoped to this test's factory, so tests running in parallel do not see each other's measurements.
        _exporter = new PrometheusExporter(factory);
        _metrics = new ProxyMetrics(factory);
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _exporter.Dispose();
        _services.Dispose();
    }

    [Fact]
    public void Render_NothingRecorded_ListsEveryInstrumentWithZeros()
    {
        var text = PrometheusText.Parse(_exporter.Render());

        Assert.Equal("counter", text.Types["proxy_requests_total"]);
        Assert.Equal("gauge", text.Types["proxy_active_tunnels"]);
        Assert.Equal("counter", text.Types["proxy_bytes_up_total"]);
        Assert.Equal("counter", text.Types["proxy_bytes_down_total"]);
        Assert.Equal("histogram", text.Types["proxy_dns_duration_seconds"]);
        Assert.Equal("histogram", text.Types["proxy_upstream_connect_duration_seconds"]);
        Assert.Equal("counter", text.Types["proxy_sni_mismatch_total"]);
        Assert.Equal("counter", text.Types["proxy_errors_total"]);
        Assert.Equal("counter", text.Types["proxy_config_reloads_total"]);
        Assert.Equal("counter", text.Types["proxy_policy_parameter_polls_total"]);
        Assert.Equal("gauge", text.Types["process_start_time_seconds"]);
        Assert.All(text.Types.Keys, name => Assert.False(string.IsNullOrEmpty(text.Help[name])));

        Assert.Equal(0, text.Value("proxy_active_tunnels"));
        Assert.Equal(0, text.Value("proxy_bytes_up_total"));
        Assert.Equal(0, text.Value("proxy_sni_mismatch_total"));
        Assert.Equal(0, text.Value("proxy_dns_duration_seconds_count"));
        Assert.Equal(0, text.Value("proxy_dns_duration_seconds_sum"));
        Assert.Equal(ProxyMetrics.DurationBuckets.Count + 1, text.Buckets("proxy_dns_duration_seconds").Count);
    }

    [Fact]
    public void RecordRequest_SeveralTagSets_CountsEachSeparately()
    {
        _metrics.RecordRequest(DecisionLabels.Allow, "github", DecisionLabels.Kind(AdmissionPath.Tunnel));
        _metrics.RecordRequest(DecisionLabels.Allow, "github", DecisionLabels.Kind(AdmissionPath.Tunnel));
        _metrics.RecordRequest(DecisionLabels.Allow, "github", DecisionLabels.Kind(AdmissionPath.Http));
        _metrics.RecordRequest(DecisionLabels.Deny, DecisionLabels.DefaultRule, DecisionLabels.Kind(AdmissionPath.Tunnel));

        var text = PrometheusText.Parse(_exporter.Render());

        Assert.Equal(3, text.Named("proxy_requests_total").Count);
        Assert.Equal(2, text.Value("proxy_requests_total", ("decision", "allow"), ("rule", "github"), ("kind", "tunnel")));
        Assert.Equal(1, text.Value("proxy_requests_total", ("decision", "allow"), ("rule", "github"), ("kind", "http")));
        Assert.Equal(1, text.Value("proxy_requests_total", ("decision", "deny"), ("rule", "default"), ("kind", "tunnel")));
    }

    [Fact]
    public void TunnelOpenedAndClosed_TracksOpenTunnels()
    {
        _metrics.TunnelOpened();
        _metrics.TunnelOpened();
        _metrics.TunnelOpened();
        _metrics.TunnelClosed();

        Assert.Equal(2, PrometheusText.Parse(_exporter.Render()).Value("proxy_active_tunnels"));

        _metrics.TunnelClosed();
        _metrics.TunnelClosed();
        Assert.Equal(0, PrometheusText.Parse(_exporter.Render()).Value("proxy_active_tunnels"));
    }

    [Fact]
    public void AddBytes_UpAndDown_SumSeparatelyAndIgnoreNonPositive()
    {
        _metrics.AddBytes(100, 2000);
        _metrics.AddBytes(0, 5);
        _metrics.AddBytes(7, -3);
        _metrics.AddBytes(long.MaxValue / 4, 0);

        var raw = _exporter.Render();
        var text = PrometheusText.Parse(raw);

        // Integer counters print every digit; a double would round this one.
        Assert.Contains($"\nproxy_bytes_up_total {107 + (long.MaxValue / 4)}\n", raw, StringComparison.Ordinal);
        Assert.Equal(2005, text.Value("proxy_bytes_down_total"));
    }

    [Fact]
    public void RecordDnsAndConnect_FillCumulativeBuckets()
    {
        _metrics.RecordDns(TimeSpan.FromMilliseconds(0.2));
        _metrics.RecordDns(TimeSpan.FromMilliseconds(1));
        _metrics.RecordDns(TimeSpan.FromMilliseconds(30));
        _metrics.RecordDns(TimeSpan.FromSeconds(20));
        _metrics.RecordConnect(TimeSpan.FromMilliseconds(4));

        var text = PrometheusText.Parse(_exporter.Render());
        var dns = text.Buckets("proxy_dns_duration_seconds");
        Assert.Equal(
            [
                ("0.0005", 1), ("0.001", 2), ("0.0025", 2), ("0.005", 2), ("0.01", 2), ("0.025", 2), ("0.05", 3),
                ("0.1", 3), ("0.25", 3), ("0.5", 3), ("1", 3), ("2.5", 3), ("5", 3), ("10", 3), ("+Inf", 4),
            ],
            dns);
        Assert.Equal(4, text.Value("proxy_dns_duration_seconds_count"));
        Assert.Equal(0.0002 + 0.001 + 0.03 + 20, text.Value("proxy_dns_duration_seconds_sum"), 1e-12);

        Assert.Equal(0, text.Buckets("proxy_upstream_connect_duration_seconds").Single(b => b.Le == "0.0025").Count);
        Assert.Equal(1, text.Buckets("proxy_upstream_connect_duration_seconds").Single(b => b.Le == "0.005").Count);
        Assert.Equal(1, text.Value("proxy_upstream_connect_duration_seconds_count"));
    }

    [Fact]
    public void SniErrorsAndReloads_CountByTag()
    {
        _metrics.SniMismatch();
        _metrics.SniMismatch();
        _metrics.RecordError("ERR_DNS_FAIL");
        _metrics.RecordError("ERR_DNS_FAIL");
        _metrics.RecordError("ERR_CONNECT_TIMEOUT");
        _metrics.RecordReload(ok: true, ProxyMetrics.FileSource);
        _metrics.RecordReload(ok: false, ProxyMetrics.ParameterSource);
        _metrics.RecordReload(ok: true, ProxyMetrics.FileSource);
        _metrics.RecordParameterPoll("unchanged");
        _metrics.RecordParameterPoll("unchanged");
        _metrics.RecordParameterPoll("error");

        var text = PrometheusText.Parse(_exporter.Render());
        Assert.Equal(2, text.Value("proxy_sni_mismatch_total"));
        Assert.Equal(2, text.Value("proxy_errors_total", ("code", "ERR_DNS_FAIL")));
        Assert.Equal(1, text.Value("proxy_errors_total", ("code", "ERR_CONNECT_TIMEOUT")));
        Assert.Equal(2, text.Value("proxy_config_reloads_total", ("result", "success"), ("source", "file")));
        Assert.Equal(1, text.Value("proxy_config_reloads_total", ("result", "failure"), ("source", "ssm")));
        Assert.Equal(2, text.Value("proxy_policy_parameter_polls_total", ("result", "unchanged")));
        Assert.Equal(1, text.Value("proxy_policy_parameter_polls_total", ("result", "error")));
    }

    [Fact]
    public void ProcessStartTime_IsRecentUnixTime()
    {
        var start = PrometheusText.Parse(_exporter.Render()).Value("process_start_time_seconds");
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        Assert.InRange(start, now - (24 * 3600), now + 1);
    }

    [Fact]
    public async Task Record_ManyTasksInParallel_TotalsAreExact()
    {
        const int Tasks = 16;
        const int Iterations = 5000;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var workers = new Task[Tasks];
        for (var t = 0; t < Tasks; t++)
        {
            var rule = $"rule{t % 4}";
            workers[t] = Task.Run(
                async () =>
                {
                    await start.Task;
                    for (var i = 0; i < Iterations; i++)
                    {
                        _metrics.RecordRequest(DecisionLabels.Allow, rule, DecisionLabels.Kind(AdmissionPath.Http));
                        _metrics.AddBytes(3, 5);
                        _metrics.TunnelOpened();
                        _metrics.RecordConnect(TimeSpan.FromMilliseconds(i % 2 == 0 ? 0.1 : 100));
                        _metrics.TunnelClosed();
                    }
                },
                TestContext.Current.CancellationToken);
        }

        start.SetResult();
        await Task.WhenAll(workers);

        var text = PrometheusText.Parse(_exporter.Render());
        for (var r = 0; r < 4; r++)
        {
            Assert.Equal(Tasks / 4 * Iterations, text.Value("proxy_requests_total", ("decision", "allow"), ("rule", $"rule{r}"), ("kind", "http")));
        }

        Assert.Equal(3L * Tasks * Iterations, text.Value("proxy_bytes_up_total"));
        Assert.Equal(5L * Tasks * Iterations, text.Value("proxy_bytes_down_total"));
        Assert.Equal(0, text.Value("proxy_active_tunnels"));
        Assert.Equal(Tasks * Iterations, text.Value("proxy_upstream_connect_duration_seconds_count"));
        Assert.Equal(Tasks * Iterations / 2, text.Buckets("proxy_upstream_connect_duration_seconds").Single(b => b.Le == "0.0005").Count);
        Assert.Equal(Tasks * Iterations / 2 * (0.0001 + 0.1), text.Value("proxy_upstream_connect_duration_seconds_sum"), 1e-6);
    }

    [Fact]
    public void Dispose_FactoryMeter_SecondInstanceStillRecords()
    {
        _metrics.Dispose();
        using var again = new ProxyMetrics(_services.GetRequiredService<IMeterFactory>());
        again.SniMismatch();

        Assert.Equal(1, PrometheusText.Parse(_exporter.Render()).Value("proxy_sni_mismatch_total"));
    }

    [Fact]
    public void Render_RuntimeInstruments_FollowTheProcess()
    {
        var before = PrometheusText.Parse(_exporter.Render());
        Assert.Equal("counter", before.Types["process_cpu_seconds_total"]);
        Assert.Equal("gauge", before.Types["process_resident_memory_bytes"]);
        Assert.Equal("counter", before.Types["dotnet_gc_allocated_bytes_total"]);
        Assert.Equal("counter", before.Types["dotnet_gc_collections_total"]);
        Assert.Equal("counter", before.Types["dotnet_gc_pause_seconds_total"]);
        Assert.Equal("gauge", before.Types["dotnet_gc_heap_bytes"]);
        Assert.Equal("gauge", before.Types["dotnet_threadpool_threads"]);
        Assert.Equal("gauge", before.Types["dotnet_threadpool_queue_length"]);

        // 64 MiB allocated and a forced gen0 collection must both show, whatever else the test process does.
        var kept = new List<byte[]>();
        for (var i = 0; i < 64; i++)
        {
            kept.Add(new byte[1 << 20]);
        }

        GC.KeepAlive(kept);
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        var after = PrometheusText.Parse(_exporter.Render());

        Assert.True(after.Value("dotnet_gc_allocated_bytes_total") - before.Value("dotnet_gc_allocated_bytes_total") >= 64 << 20);
        Assert.True(after.Value("dotnet_gc_collections_total", ("generation", "gen0")) > before.Value("dotnet_gc_collections_total", ("generation", "gen0")));
        Assert.True(after.Value("dotnet_gc_collections_total", ("generation", "gen0")) >= after.Value("dotnet_gc_collections_total", ("generation", "gen1")));
        Assert.True(after.Value("dotnet_gc_collections_total", ("generation", "gen1")) >= after.Value("dotnet_gc_collections_total", ("generation", "gen2")));
        Assert.True(after.Value("process_cpu_seconds_total") > 0);
        Assert.True(after.Value("process_resident_memory_bytes") > 1 << 20);
        Assert.True(after.Value("dotnet_threadpool_threads") >= 1);
    }

    [Fact]
    public void Render_OpenFileDescriptors_CountsFilesHeldOpen()
    {
        Requirements.SkipUnless(Directory.Exists("/proc/self/fd"), "process_open_fds reads /proc/self/fd, which this system lacks");
        var directory = Directory.CreateTempSubdirectory("fds-");
        var files = new List<FileStream>();
        try
        {
            var before = PrometheusText.Parse(_exporter.Render()).Value("process_open_fds");
            for (var i = 0; i < 512; i++)
            {
                files.Add(File.Create(Path.Combine(directory.FullName, $"f{i}")));
            }

            // The count must follow the files: tests running alongside open and close a few of their own meanwhile.
            var after = PrometheusText.Parse(_exporter.Render()).Value("process_open_fds");
            Assert.True(after - before >= 400, $"open descriptors went from {before} to {after} with 512 files opened");
        }
        finally
        {
            files.ForEach(f => f.Dispose());
            directory.Delete(recursive: true);
        }
    }
}
