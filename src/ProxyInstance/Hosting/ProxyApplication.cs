using System.Net;
using EgressLab.ProxyInstance.AccessLog;
using EgressLab.ProxyInstance.Admin;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Egress;
using EgressLab.ProxyInstance.Forwarding;
using EgressLab.ProxyInstance.Limits;
using EgressLab.ProxyInstance.Metrics;
using EgressLab.ProxyInstance.Tunnel;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serilog;
using Serilog.Extensions.Logging;
using EgressLab.ProxyInstance.Lifetime;
using EgressLab.ProxyInstance.Connections;
using EgressLab.ProxyInstance.Admission;

namespace EgressLab.ProxyInstance.Hosting;

/// <summary>The endpoints the proxy actually bound, known once the server has started (port 0 picks one).</summary>
internal sealed class BoundEndpoints
{
    internal List<ListenOptions> ProxyListeners { get; } = [];
    internal ListenOptions? AdminListener { get; set; }

    public IReadOnlyList<IPEndPoint> Proxy => ProxyListeners.Select(l => l.IPEndPoint!).ToList();
    public IPEndPoint? Admin => AdminListener?.IPEndPoint;

    public bool IsAdmin(ConnectionInfo connection)
    {
        if (AdminListener?.IPEndPoint is not { } admin || connection.LocalPort != admin.Port)
        {
            return false;
        }

        return admin.Address.Equals(IPAddress.Any) || admin.Address.Equals(IPAddress.IPv6Any)
            || (connection.LocalIpAddress is { } local && (local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local).Equals(admin.Address));
    }
}

/// <summary>Builds the proxy's web application from validated settings.</summary>
internal static class ProxyApplication
{
    public static WebApplication Build(RuntimeSettings settings, ConfigSource source, IConfiguration? configuration,
        Action<IServiceCollection>? configureServices = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // The host's default sources (appsettings.json in the content root) are cleared below, but they watch the
        // content root for changes as soon as they are added: recursively, and by default the content root is the working
        // directory, which is "/" under systemd. That was thousands of inotify watches, and a wake for every file
        // written under it. So nothing is watched, and the content root is the proxy's own directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.Sources.Clear();
        if (configuration is not null)
        {
            builder.Configuration.AddConfiguration(configuration);
        }

        var serilog = CreateLogger(configuration);
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new SerilogLoggerProvider(serilog, dispose: true));
        // Per request, ASP.NET Core's hosting layer starts an Activity and a log scope whenever its category can log at
        // all; it logs nothing but request start and finish, which the access log records. Scopes are off for the same
        // reason: Kestrel opens one per connection and the proxy's own logs carry what they need in the message.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Services.Configure<LoggerFilterOptions>(o => o.CaptureScopes = false);

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.DrainTimeout);
        builder.Services.AddSingleton(TimeProvider.System);
        PrometheusEndpoint.Register(builder.Services);
        builder.Services.AddSingleton<ProxyMetrics>();
        builder.Services.AddSingleton(sp => new RuntimeSettingsStore(settings, source, null,
            sp.GetRequiredService<ILogger<RuntimeSettingsStore>>(), sp.GetRequiredService<ProxyMetrics>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RuntimeSettingsStore>());
        builder.Services.AddSingleton<IHostResolver, SystemHostResolver>();
        builder.Services.AddSingleton<ISocketConnector, SocketConnector>();
        builder.Services.AddSingleton<DnsCache>();
        builder.Services.AddSingleton<EgressDialer>();
        builder.Services.AddSingleton<EgressHttpClient>();
        builder.Services.AddSingleton<AccessLogWriter>();
        builder.Services.AddSingleton<DrainSignal>();
        builder.Services.AddSingleton<AdmissionGate>();
        builder.Services.AddSingleton<TunnelHandler>();
        builder.Services.AddSingleton<ClientLimits>();
        builder.Services.AddSingleton<ForwardProxyHandler>();
        builder.Services.AddHttpForwarder();
        // Kestrel's transport reads client bytes into blocks from this pool: 32 KiB, not its own 4 KiB.
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, ConnectionMemoryPoolFactory>();
        var bound = new BoundEndpoints();
        builder.Services.AddSingleton(bound);
        configureServices?.Invoke(builder.Services);
        if (settings.PolicySource is { } policySource)
        {
            // After the host's own services, so that a test can read the parameter from a stand-in instead.
            builder.Services.TryAddSingleton<IPolicyParameterClient>(_ => new SsmPolicyParameterClient(policySource));
            builder.Services.AddHostedService(sp => new PolicyParameterPoller(sp.GetRequiredService<RuntimeSettingsStore>(), policySource,
                sp.GetRequiredService<IPolicyParameterClient>(), sp.GetRequiredService<ProxyMetrics>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<PolicyParameterPoller>>()));
        }

        // RFC 9112 §2.2 lets a recipient accept a bare LF as a line ending, and Kestrel does. An intermediary in front
        // that reads the same bytes as one field (LF inside its value) would disagree with us about the request's fields
        // and framing: refuse bare LF, as the CONNECT parser does. The switch is process-wide, read when Kestrel starts.
        AppContext.SetSwitch("Microsoft.AspNetCore.Server.Kestrel.DisableHttp1LineFeedTerminators", true);
        // Kestrel's half of InlineSocketCompletions: no hop to the thread pool between a socket's data and the request
        // code that reads it. Program sets the runtime's half for the sockets the proxy opens itself.
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = settings.InlineSocketCompletions);

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            kestrel.AddServerHeader = false;
            // Absolute-form targets carry the authority; Kestrel then takes Host from it (RFC 9112 §3.2.2).
            kestrel.AllowHostHeaderOverride = true;
            // The proxy counts connections itself and answers those past Limits:MaxConnections with a 503;
            // Kestrel's own limit, which closes a connection without a word, is the backstop at twice that.
            kestrel.Limits.MaxConcurrentConnections = 2L * settings.MaxConnections;
            kestrel.Limits.MaxRequestHeadersTotalSize = settings.MaxRequestHeadBytes;
            kestrel.Limits.MaxRequestLineSize = ConnectRequestParser.MaxRequestLineBytes;
            kestrel.Limits.RequestHeadersTimeout = settings.RequestHeadersTimeout;
            kestrel.Limits.MaxRequestBodySize = null;
            foreach (var endPoint in settings.Listen)
            {
                kestrel.Listen(endPoint, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    listen.Use(next => new ProxyConnectionMiddleware(next, kestrel.ApplicationServices).OnConnectionAsync);
                    bound.ProxyListeners.Add(listen);
                });
            }

            if (settings.AdminListen is { } admin)
            {
                kestrel.Listen(admin, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    bound.AdminListener = listen;
                });
            }
        });

        var app = builder.Build();
        // Resolve now so the meter provider listens from the first request.
        app.Services.GetRequiredService<PrometheusEndpoint>();
        var limits = app.Services.GetRequiredService<ClientLimits>();
        app.Services.GetRequiredService<ProxyMetrics>().ObserveClientConnections(() => limits.Connections, settings.MaxConnections);
        // Not an async lambda: that would allocate a state machine for every proxied request.
        app.Use(next => context => bound.IsAdmin(context.Connection) ? AdminEndpoints.HandleAsync(context) : next(context));
        var forwardProxy = app.Services.GetRequiredService<ForwardProxyHandler>();
        app.Run(forwardProxy.InvokeAsync);
        return app;
    }

    private static Serilog.Core.Logger CreateLogger(IConfiguration? configuration)
    {
        var logger = new LoggerConfiguration().MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
            .MinimumLevel.Override("Yarp", Serilog.Events.LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", Serilog.Events.LogEventLevel.Information);
        if (configuration?.GetSection("Serilog").Exists() == true)
        {
            logger.ReadFrom.Configuration(configuration);
        }
        else
        {
            // Operational logs go to stderr so that stdout carries only the access log when it is logged there.
            logger.WriteTo.Console(standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose,
                outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
        }

        return logger.CreateLogger();
    }
}
