using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace EgressLab.ProxyInstance.Metrics;

/// <summary>
/// The admin server's <c>/metrics</c>: the proxy's instruments (<see cref="ProxyMetrics.MeterName"/>) and the runtime's
/// own <see cref="RuntimeMeterName"/> meter, in the Prometheus text format, through OpenTelemetry's exporter
/// (docs/decisions/0016-metrics-exporter.md).
/// </summary>
internal sealed class PrometheusEndpoint
{
    /// <summary>The meter the .NET runtime itself publishes GC, thread-pool, JIT and process CPU and memory figures on.</summary>
    public const string RuntimeMeterName = "System.Runtime";

    /// <summary>
    /// Runtime gauges whose names end in <c>.count</c>, renamed: in Prometheus a <c>_count</c> suffix belongs to histograms
    /// and summaries, and <c>promtool check metrics</c> rejects it on a gauge.
    /// </summary>
    private static readonly Dictionary<string, string> RuntimeRenames = new(StringComparer.Ordinal)
    {
        ["dotnet.assembly.count"] = "dotnet.assemblies",
        ["dotnet.process.cpu.count"] = "dotnet.process.cpus",
        ["dotnet.thread_pool.thread.count"] = "dotnet.thread_pool.threads",
        ["dotnet.timer.count"] = "dotnet.timers",
    };

    private readonly RequestDelegate _exporter;

    public PrometheusEndpoint(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);

        // The exporter comes as middleware only. The admin server has already picked the path, so it runs on every
        // request this pipeline sees; resolving the meter provider here starts it listening.
        var pipeline = new ApplicationBuilder(services);
        pipeline.UseOpenTelemetryPrometheusScrapingEndpoint(services.GetRequiredService<MeterProvider>(), static _ => true, path: null,
            configureBranchedPipeline: null, optionsName: null);
        _exporter = pipeline.Build();
    }

    /// <summary>Writes every metric, read now, as the response.</summary>
    public Task WriteAsync(HttpContext context) => _exporter(context);

    /// <summary>Registers the meter provider, the exporter and this endpoint.</summary>
    public static void Register(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddMetrics();
        services.AddOpenTelemetry().WithMetrics(metrics => ((IDeferredMeterProviderBuilder)metrics
            .AddMeter(ProxyMetrics.MeterName, RuntimeMeterName)).Configure(static (provider, builder) =>
            {
                var factory = provider.GetRequiredService<IMeterFactory>();
                builder.AddView(instrument => instrument.Meter.Name switch
                {
                    // Meters are matched by name alone; several proxies in one process (the tests) each export only the
                    // instruments of their own application's meter factory.
                    ProxyMetrics.MeterName when !ReferenceEquals(instrument.Meter.Scope, factory) => MetricStreamConfiguration.Drop,
                    RuntimeMeterName when RuntimeRenames.TryGetValue(instrument.Name, out var name) => new MetricStreamConfiguration { Name = name },
                    _ => null,
                });
            })
            .AddPrometheusExporter(static options =>
            {
                // Every scrape reads the instruments anew; the admin port is not a place for a response cache.
                options.ScrapeResponseCacheDurationMilliseconds = 0;
                // Series carry only their own labels (no otel_scope_name), as before, and no target_info family.
                options.ScopeInfoEnabled = false;
                options.TargetInfoEnabled = false;
            }));
        services.AddSingleton<PrometheusEndpoint>();
    }
}
