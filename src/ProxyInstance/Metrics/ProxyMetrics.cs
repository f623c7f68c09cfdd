using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EgressLab.ProxyInstance.Metrics;

/// <summary>
/// The proxy's instruments, on the meter <see cref="MeterName"/>. Recording methods do not allocate. Besides them, the
/// process's start time and open descriptors, which the runtime's own <c>System.Runtime</c> meter does not report.
/// </summary>
internal sealed class ProxyMetrics : IDisposable
{
    public const string MeterName = "EgressLab.Proxy";

    /// <summary>Bucket upper bounds, in seconds, for DNS and connect durations: 0.5 ms to 10 s.</summary>
    public static IReadOnlyList<double> DurationBuckets { get; } = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>The <c>source</c> of a reload that read the configuration file (a change, or SIGHUP).</summary>
    public const string FileSource = "file";

    /// <summary>The <c>source</c> of a reload that applied a new version of the policy parameter.</summary>
    public const string ParameterSource = "ssm";

    private const string SuccessResult = "success";
    private const string FailureResult = "failure";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly UpDownCounter<long> _activeTunnels;
    private readonly Counter<long> _bytesUp;
    private readonly Counter<long> _bytesDown;
    private readonly Counter<long> _bytesSpliced;
    private readonly Histogram<double> _dnsDuration;
    private readonly Histogram<double> _connectDuration;
    private readonly Counter<long> _sniMismatches;
    private readonly Counter<long> _tunnelHostMismatches;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _reloads;
    private readonly Counter<long> _parameterPolls;

    public ProxyMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(new MeterOptions(MeterName));

        var durationAdvice = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };
        _requests = _meter.CreateCounter<long>("proxy_requests_total", "{request}", "Requests and CONNECT tunnels, by policy decision, deciding rule and kind.");
        _activeTunnels = _meter.CreateUpDownCounter<long>("proxy_active_tunnels", "{tunnel}", "CONNECT tunnels open now.");
        // No unit on the byte counters: the exporter appends a unit not already at the end of the name, which would
        // make these proxy_bytes_up_total_bytes_total. Their names say the unit.
        _bytesUp = _meter.CreateCounter<long>("proxy_bytes_up_total", unit: null, "Bytes relayed from clients to origins.");
        _bytesDown = _meter.CreateCounter<long>("proxy_bytes_down_total", unit: null, "Bytes relayed from origins to clients.");
        _bytesSpliced = _meter.CreateCounter<long>("proxy_bytes_spliced_total", unit: null,
            "Of proxy_bytes_down_total, the bytes a tunnel moved to its client with splice(2), never copied into the proxy (SpliceTunnels).");
        _dnsDuration = _meter.CreateHistogram("proxy_dns_duration_seconds", "s", "Time to resolve a destination host name.", tags: null, durationAdvice);
        _connectDuration = _meter.CreateHistogram("proxy_upstream_connect_duration_seconds", "s", "Time to open the TCP connection to an origin.", tags: null, durationAdvice);
        _sniMismatches = _meter.CreateCounter<long>("proxy_sni_mismatch_total", "{tunnel}", "Tunnels refused because the TLS SNI did not match the CONNECT host.");
        _tunnelHostMismatches = _meter.CreateCounter<long>("proxy_tunnel_host_mismatch_total", "{tunnel}",
            "Tunnels refused because the plain HTTP request inside named another host or port than the CONNECT target.");
        _errors = _meter.CreateCounter<long>("proxy_errors_total", "{error}", "Failed requests, by error code.");
        _reloads = _meter.CreateCounter<long>("proxy_config_reloads_total", "{reload}", "Configuration reloads, by result and source (file or ssm).");
        _parameterPolls = _meter.CreateCounter<long>("proxy_policy_parameter_polls_total", "{poll}",
            "Reads of the policy's SSM parameter, by result: unchanged, changed (a new version, then counted as a reload) or error.");

        // Series that exist from the start read 0 rather than missing until their first event, so that rate() and
        // alerts see the first one. The exporter only sees these if it listens already (ProxyApplication resolves it first).
        _activeTunnels.Add(0);
        _sniMismatches.Add(0);
        _tunnelHostMismatches.Add(0);
        _bytesUp.Add(0);
        _bytesDown.Add(0);
        _bytesSpliced.Add(0);
        foreach (var result in (string[])[SuccessResult, FailureResult])
        {
            _reloads.Add(0, new KeyValuePair<string, object?>("result", result), new KeyValuePair<string, object?>("source", FileSource));
        }

        var startTime = ProcessStartTimeSeconds();
        _meter.CreateObservableGauge("process_start_time_seconds", () => startTime, "s", "Start time of the process since the Unix epoch.");
        _meter.CreateObservableGauge("process_open_fds", OpenFileDescriptors, "{descriptor}", "File descriptors the process has open (Linux only).");
    }

    /// <summary>Reports the client connections open now and <c>Limits:MaxConnections</c>, the most it admits.</summary>
    public void ObserveClientConnections(Func<int> open, int limit)
    {
        _meter.CreateObservableGauge("proxy_client_connections", open, "{connection}", "Client connections open now on the proxy listeners.");
        _meter.CreateObservableGauge("proxy_client_connections_limit", () => limit, "{connection}",
            "Limits:MaxConnections, the client connections the proxy admits at once; those past it are answered 503.");
    }

    /// <summary>One request (<c>http</c>) or CONNECT (<c>tunnel</c>) and the policy's verdict on it.</summary>
    public void RecordRequest(string decision, string rule, string kind) =>
        _requests.Add(1, new KeyValuePair<string, object?>("decision", decision), new KeyValuePair<string, object?>("rule", rule), new KeyValuePair<string, object?>("kind", kind));

    public void TunnelOpened() => _activeTunnels.Add(1);

    public void TunnelClosed() => _activeTunnels.Add(-1);

    /// <summary>Bytes relayed since the last call: <paramref name="up"/> client to origin, <paramref name="down"/> origin to client.</summary>
    public void AddBytes(long up, long down)
    {
        // Counters only go up; zero adds are skipped as they cost a callback for nothing.
        if (up > 0)
        {
            _bytesUp.Add(up);
        }

        if (down > 0)
        {
            _bytesDown.Add(down);
        }
    }

    /// <summary>Bytes of a tunnel's download, already counted by <see cref="AddBytes"/>, that went through splice(2).</summary>
    public void AddSplicedBytes(long spliced)
    {
        if (spliced > 0)
        {
            _bytesSpliced.Add(spliced);
        }
    }

    public void RecordDns(TimeSpan duration) => _dnsDuration.Record(duration.TotalSeconds);

    public void RecordConnect(TimeSpan duration) => _connectDuration.Record(duration.TotalSeconds);

    public void SniMismatch() => _sniMismatches.Add(1);

    public void TunnelHostMismatch() => _tunnelHostMismatches.Add(1);

    /// <summary>One failed request, by its error code (e.g. <c>ERR_DNS_FAIL</c>).</summary>
    public void RecordError(string code) => _errors.Add(1, new KeyValuePair<string, object?>("code", code));

    /// <summary>One reload, from <see cref="FileSource"/> or <see cref="ParameterSource"/>.</summary>
    public void RecordReload(bool ok, string source) =>
        _reloads.Add(1, new KeyValuePair<string, object?>("result", ok ? SuccessResult : FailureResult), new KeyValuePair<string, object?>("source", source));

    /// <summary>One read of the policy parameter: <c>unchanged</c>, <c>changed</c> or <c>error</c>.</summary>
    public void RecordParameterPoll(string result) => _parameterPolls.Add(1, new KeyValuePair<string, object?>("result", result));

    public void Dispose() => _meter.Dispose();

    /// <summary>Entries of <c>/proc/self/fd</c>; none are reported where it does not exist.</summary>
    private static IEnumerable<Measurement<long>> OpenFileDescriptors()
    {
        const string Directory = "/proc/self/fd";
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        // The enumeration's own descriptor on the directory is counted too, as in other Prometheus clients.
        return [new Measurement<long>(System.IO.Directory.EnumerateFileSystemEntries(Directory).LongCount())];
    }

    private static double ProcessStartTimeSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return (process.StartTime.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds;
    }
}
