using EgressLab.ProxyInstance.Admission;
using EgressLab.ProxyInstance.Metrics;

namespace EgressLab.ProxyInstance.Tests.Metrics;

public sealed class ProxyMetricsTests : IDisposable
{
    private readonly MetricsHarness _harness = new();

    private ProxyMetrics Metrics => _harness.Metrics;

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Scrape_NothingRecorded_TypesHelpAndZeroSeries()
    {
        Metrics.RecordDns(TimeSpan.FromMilliseconds(1));
        var text = await _harness.ScrapeAsync();

        Assert.Equal("counter", text.Types["proxy_bytes_up_total"]);
        Assert.Equal("counter", text.Types["proxy_bytes_down_total"]);
        Assert.Equal("counter", text.Types["proxy_bytes_spliced_total"]);
        Assert.Equal("counter", text.Types["proxy_sni_mismatch_total"]);
        Assert.Equal("counter", text.Types["proxy_tunnel_host_mismatch_total"]);
        Assert.Equal("counter", text.Types["proxy_config_reloads_total"]);
        Assert.Equal("histogram", text.Types["proxy_dns_duration_seconds"]);
        Assert.Equal("gauge", text.Types["process_start_time_seconds"]);
        Assert.All(text.Types.Keys, name => Assert.False(string.IsNullOrEmpty(text.Help[name]), $"{name} has no HELP"));

        Assert.Equal(0, text.Value("proxy_bytes_up_total"));
        Assert.Equal(0, text.Value("proxy_bytes_spliced_total"));
        Assert.Equal(0, text.Value("proxy_sni_mismatch_total"));
        Assert.Equal(0, text.Value("proxy_tunnel_host_mismatch_total"));
        Assert.Equal(0, text.Value("proxy_config_reloads_total", ("result", "failure"), ("source", "file")));
        Assert.Equal(ProxyMetrics.DurationBuckets.Count + 1, text.Buckets("proxy_dns_duration_seconds").Count);
    }

    [Fact]
    public async Task RecordRequest_SeveralTagSets_CountsEachSeparately()
    {
        Metrics.RecordRequest(DecisionLabels.Allow, "github", DecisionLabels.Kind(AdmissionPath.Tunnel));
        Metrics.RecordRequest(DecisionLabels.Allow, "github", DecisionLabels.Kind(AdmissionPath.Tunnel));
        Metrics.RecordRequest(DecisionLabels.Allow, "github", DecisionLabels.Kind(AdmissionPath.Http));
        Metrics.RecordRequest(DecisionLabels.Deny, DecisionLabels.DefaultRule, DecisionLabels.Kind(AdmissionPath.Tunnel));

        var text = await _harness.ScrapeAsync();

        Assert.Equal("counter", text.Types["proxy_requests_total"]);
        Assert.Equal(3, text.Named("proxy_requests_total").Count);
        Assert.Equal(2, text.Value("proxy_requests_total", ("decision", "allow"), ("rule", "github"), ("kind", "tunnel")));
        Assert.Equal(1, text.Value("proxy_requests_total", ("decision", "allow"), ("rule", "github"), ("kind", "http")));
        Assert.Equal(1, text.Value("proxy_requests_total", ("decision", "deny"), ("rule", "default"), ("kind", "tunnel")));
    }

    [Fact]
    public async Task TunnelOpenedAndClosed_TracksOpenTunnels()
    {
        Metrics.TunnelOpened();
        Metrics.TunnelOpened();
        Metrics.TunnelOpened();
        Metrics.TunnelClosed();

        var open = await _harness.ScrapeAsync();
        Assert.Equal("gauge", open.Types["proxy_active_tunnels"]);
        Assert.Equal(2, open.Value("proxy_active_tunnels"));

        Metrics.TunnelClosed();
        Metrics.TunnelClosed();
        Assert.Equal(0, (await _harness.ScrapeAsync()).Value("proxy_active_tunnels"));
    }

    [Fact]
    public async Task AddBytes_UpAndDown_SumSeparatelyAndIgnoreNonPositive()
    {
        Metrics.AddBytes(100, 2000);
        Metrics.AddBytes(0, 5);
        Metrics.AddBytes(7, -3);
        Metrics.AddBytes(1L << 40, 0);

        var text = await _harness.ScrapeAsync();

        Assert.Equal(107 + (1L << 40), text.Value("proxy_bytes_up_total"));
        Assert.Equal(2005, text.Value("proxy_bytes_down_total"));
    }

    [Fact]
    public async Task AddSplicedBytes_SumsApartFromTheDownloadTotalAndIgnoresNonPositive()
    {
        Metrics.AddBytes(0, 5000);
        Metrics.AddSplicedBytes(4096);
        Metrics.AddSplicedBytes(0);
        Metrics.AddSplicedBytes(-1);
        Metrics.AddSplicedBytes(100);

        var text = await _harness.ScrapeAsync();

        Assert.Equal(4196, text.Value("proxy_bytes_spliced_total"));
        Assert.Equal(5000, text.Value("proxy_bytes_down_total"));
    }

    [Fact]
    public async Task RecordDnsAndConnect_FillCumulativeBuckets()
    {
        Metrics.RecordDns(TimeSpan.FromMilliseconds(0.2));
        Metrics.RecordDns(TimeSpan.FromMilliseconds(1));
        Metrics.RecordDns(TimeSpan.FromMilliseconds(30));
        Metrics.RecordDns(TimeSpan.FromSeconds(20));
        Metrics.RecordConnect(TimeSpan.FromMilliseconds(4));

        var text = await _harness.ScrapeAsync();
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
    public async Task SniErrorsAndReloads_CountByTag()
    {
        Metrics.SniMismatch();
        Metrics.SniMismatch();
        Metrics.TunnelHostMismatch();
        Metrics.RecordError("ERR_DNS_FAIL");
        Metrics.RecordError("ERR_DNS_FAIL");
        Metrics.RecordError("ERR_CONNECT_TIMEOUT");
        Metrics.RecordReload(ok: true, ProxyMetrics.FileSource);
        Metrics.RecordReload(ok: false, ProxyMetrics.ParameterSource);
        Metrics.RecordReload(ok: true, ProxyMetrics.FileSource);
        Metrics.RecordParameterPoll("unchanged");
        Metrics.RecordParameterPoll("unchanged");
        Metrics.RecordParameterPoll("error");

        var text = await _harness.ScrapeAsync();
        Assert.Equal(2, text.Value("proxy_sni_mismatch_total"));
        Assert.Equal(1, text.Value("proxy_tunnel_host_mismatch_total"));
        Assert.Equal(2, text.Value("proxy_errors_total", ("code", "ERR_DNS_FAIL")));
        Assert.Equal(1, text.Value("proxy_errors_total", ("code", "ERR_CONNECT_TIMEOUT")));
        Assert.Equal(2, text.Value("proxy_config_reloads_total", ("result", "success"), ("source", "file")));
        Assert.Equal(0, text.Value("proxy_config_reloads_total", ("result", "failure"), ("source", "file")));
        Assert.Equal(1, text.Value("proxy_config_reloads_total", ("result", "failure"), ("source", "ssm")));
        Assert.Equal(2, text.Value("proxy_policy_parameter_polls_total", ("result", "unchanged")));
        Assert.Equal(1, text.Value("proxy_policy_parameter_polls_total", ("result", "error")));
    }

    [Fact]
    public async Task ObserveClientConnections_ReportsOpenAndLimit()
    {
        var open = 3;
        Metrics.ObserveClientConnections(() => open, 500);

        var first = await _harness.ScrapeAsync();
        open = 7;
        var second = await _harness.ScrapeAsync();

        Assert.Equal(3, first.Value("proxy_client_connections"));
        Assert.Equal(7, second.Value("proxy_client_connections"));
        Assert.Equal(500, second.Value("proxy_client_connections_limit"));
    }

    [Fact]
    public async Task ProcessStartTime_IsRecentUnixTime()
    {
        var start = (await _harness.ScrapeAsync()).Value("process_start_time_seconds");
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
                        Metrics.RecordRequest(DecisionLabels.Allow, rule, DecisionLabels.Kind(AdmissionPath.Http));
                        Metrics.AddBytes(3, 5);
                        Metrics.TunnelOpened();
                        Metrics.RecordConnect(TimeSpan.FromMilliseconds(i % 2 == 0 ? 0.1 : 100));
                        Metrics.TunnelClosed();
                    }
                },
                TestContext.Current.CancellationToken);
        }

        start.SetResult();
        await Task.WhenAll(workers);

        var text = await _harness.ScrapeAsync();
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
    public async Task Scrape_AnotherApplicationsMeter_IsNotExported()
    {
        using var other = new MetricsHarness();
        other.Metrics.SniMismatch();
        other.Metrics.RecordError("ERR_OTHER");

        var text = await _harness.ScrapeAsync();

        Assert.Equal(0, text.Value("proxy_sni_mismatch_total"));
        Assert.Empty(text.Named("proxy_errors_total"));
        Assert.Equal(1, (await other.ScrapeAsync()).Value("proxy_sni_mismatch_total"));
    }

    [Fact]
    public async Task Record_KnownTagSet_DoesNotAllocate()
    {
        var rule = "rule-" + Guid.NewGuid().ToString("N");

        // Warm up: the first measurement of each tag set creates its series (and JIT-compiles the path).
        Record(Metrics, rule);
        Record(Metrics, rule);

        var (allocated, rounds) = TestHost.Allocations.Least(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                Record(Metrics, rule);
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(2 + (1000 * rounds), (await _harness.ScrapeAsync()).Value("proxy_requests_total", ("decision", "allow"), ("rule", rule), ("kind", "http")));

        static void Record(ProxyMetrics metrics, string rule)
        {
            metrics.RecordRequest(DecisionLabels.Allow, rule, "http");
            metrics.RecordError("ERR_DNS_FAIL");
            metrics.RecordReload(ok: true, ProxyMetrics.FileSource);
            metrics.AddBytes(10, 20);
            metrics.TunnelOpened();
            metrics.TunnelClosed();
            metrics.RecordDns(TimeSpan.FromMilliseconds(3));
            metrics.RecordConnect(TimeSpan.FromMilliseconds(3));
            metrics.SniMismatch();
        }
    }

    [Fact]
    public async Task Scrape_RuntimeMeter_FollowsTheProcess()
    {
        var before = await _harness.ScrapeAsync();
        Assert.Equal("counter", before.Types["dotnet_gc_heap_total_allocated_bytes_total"]);
        Assert.Equal("counter", before.Types["dotnet_gc_collections_total"]);
        Assert.Equal("counter", before.Types["dotnet_gc_pause_time_seconds_total"]);
        Assert.Equal("counter", before.Types["dotnet_process_cpu_time_seconds_total"]);
        Assert.Equal("gauge", before.Types["dotnet_process_memory_working_set_bytes"]);
        Assert.Equal("gauge", before.Types["dotnet_thread_pool_threads"]);
        Assert.Equal("gauge", before.Types["dotnet_thread_pool_queue_length"]);
        Assert.Equal("gauge", before.Types["dotnet_process_cpus"]);

        // 64 MiB allocated and a forced gen0 collection must both show, whatever else the test process does.
        var kept = new List<byte[]>();
        for (var i = 0; i < 64; i++)
        {
            kept.Add(new byte[1 << 20]);
        }

        GC.KeepAlive(kept);
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        var after = await _harness.ScrapeAsync();

        Assert.True(after.Value("dotnet_gc_heap_total_allocated_bytes_total") - before.Value("dotnet_gc_heap_total_allocated_bytes_total") >= 64 << 20);
        // Each collection counts once, under the oldest generation it collected.
        Assert.True(Collections(after) > Collections(before));
        Assert.True(after.Value("dotnet_process_cpu_time_seconds_total", ("cpu_mode", "user")) > 0);
        Assert.True(after.Value("dotnet_process_memory_working_set_bytes") > 1 << 20);
        Assert.True(after.Value("dotnet_thread_pool_threads") >= 1);
        Assert.Equal(Environment.ProcessorCount, after.Value("dotnet_process_cpus"));

        static double Collections(PrometheusText text) => text.Named("dotnet_gc_collections_total").Sum(s => s.Value);
    }

    [Fact]
    public async Task Scrape_OpenFileDescriptors_CountsFilesHeldOpen()
    {
        Requirements.SkipUnless(Directory.Exists("/proc/self/fd"), "process_open_fds reads /proc/self/fd, which this system lacks");
        var directory = Directory.CreateTempSubdirectory("fds-");
        var files = new List<FileStream>();
        try
        {
            var before = (await _harness.ScrapeAsync()).Value("process_open_fds");
            for (var i = 0; i < 512; i++)
            {
                files.Add(File.Create(Path.Combine(directory.FullName, $"f{i}")));
            }

            // The count must follow the files: tests running alongside open and close a few of their own meanwhile.
            var after = (await _harness.ScrapeAsync()).Value("process_open_fds");
            Assert.True(after - before >= 400, $"open descriptors went from {before} to {after} with 512 files opened");
        }
        finally
        {
            files.ForEach(f => f.Dispose());
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Scrape_Output_PassesPromtoolCheckMetrics()
    {
        Promtool.Require();
        Metrics.RecordRequest(DecisionLabels.Allow, "rule \"quoted\" \\ back\nslash", "http");
        Metrics.RecordError("ERR_DNS_FAIL");
        Metrics.RecordDns(TimeSpan.FromMilliseconds(2));

        var exposition = await _harness.ScrapeTextAsync();
        var check = await Promtool.CheckMetricsAsync(exposition, TestContext.Current.CancellationToken);

        Assert.True(check.ExitCode == 0, $"promtool check metrics: {check}\n{exposition}");
        Assert.Equal(1, PrometheusText.Parse(exposition).Value("proxy_requests_total", ("decision", "allow"), ("rule", "rule \"quoted\" \\ back\nslash"), ("kind", "http")));
    }
}
