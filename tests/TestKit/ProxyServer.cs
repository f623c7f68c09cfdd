using System.Net;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace EgressLab.ProxyInstance.Tests.TestHost;

/// <summary>
/// The proxy, started in-process on loopback ports the OS picks, from a real JSON config file in a
/// temporary directory (so reload can be tested by rewriting it), with its access log in a file.
/// </summary>
internal sealed class ProxyServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProxyServer(WebApplication app, string directory, string configPath, string accessLogPath)
    {
        _app = app;
        Directory = directory;
        ConfigPath = configPath;
        AccessLogPath = accessLogPath;
        var bound = app.Services.GetRequiredService<BoundEndpoints>();
        ProxyEndPoint = bound.Proxy[0];
        AdminEndPoint = bound.Admin!;
    }

    public string Directory { get; }
    public string ConfigPath { get; }
    public string AccessLogPath { get; }
    public IPEndPoint ProxyEndPoint { get; }
    public IPEndPoint AdminEndPoint { get; }
    public Uri ProxyUri => new($"http://{ProxyEndPoint}");
    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// A config with the given policy, listening on loopback port 0, where the names in <paramref name="hosts"/>
    /// resolve (statically) to loopback and 127.0.0.1 is an allowed private destination, as the origins live there.
    /// </summary>
    public static JsonObject Config(JsonObject policy, IDictionary<string, string>? hosts = null, Action<JsonObject>? customize = null)
    {
        policy["AllowedPrivateDestinations"] ??= new JsonArray("127.0.0.1/32");
        var hostMap = new JsonObject();
        foreach (var (name, address) in hosts ?? new Dictionary<string, string> { ["www.example.com"] = "127.0.0.1" })
        {
            hostMap[name] = new JsonArray(address);
        }

        var proxy = new JsonObject
        {
            ["Listen"] = new JsonArray("127.0.0.1:0"),
            ["AdminListen"] = "127.0.0.1:0",
            ["Policy"] = policy,
            ["Dns"] = new JsonObject { ["Hosts"] = hostMap },
            ["Timeouts"] = new JsonObject { ["Connect"] = "00:00:03", ["Dns"] = "00:00:03", ["ClientHello"] = "00:00:05" },
        };
        customize?.Invoke(proxy);
        return new JsonObject { ["Proxy"] = proxy };
    }

    /// <summary>A policy that allows every destination on every port, from any client.</summary>
    public static JsonObject AllowAll(int port, params int[] morePorts) => new()
    {
        ["DefaultAction"] = "Deny",
        ["Rules"] = new JsonArray(new JsonObject
        {
            ["Name"] = "allow-all",
            ["Action"] = "Allow",
            ["Ports"] = new JsonArray([.. new[] { 80, 443, port }.Concat(morePorts).Distinct().Select(p => (JsonNode)p)]),
        }),
    };

    public static Task<ProxyServer> StartAsync(JsonObject config, TestNetwork network) => StartAsync(config, network.Register);

    public static Task<ProxyServer> StartAsync(JsonObject config, Action<IServiceCollection> services) => StartAsync(config, services, null);

    /// <summary>
    /// Starts the proxy; when the config's <c>PolicySource</c> names a parameter, <paramref name="policyClients"/> reads it
    /// at start-up, as the proxy's own start-up does.
    /// </summary>
    public static async Task<ProxyServer> StartAsync(JsonObject config, Action<IServiceCollection> services,
        Func<PolicySourceSettings, IPolicyParameterClient>? policyClients)
    {
        var directory = Path.Combine(Path.GetTempPath(), "egress-proxy-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var accessLog = Path.Combine(directory, "access.log");
        var proxy = config["Proxy"]!.AsObject();
        if (proxy["AccessLog"] is JsonObject accessLogSection)
        {
            // A test that only picks the format still gets its log where AccessLogLinesAsync reads it.
            accessLogSection["Path"] ??= accessLog;
        }
        else
        {
            proxy["AccessLog"] = new JsonObject { ["Path"] = accessLog };
        }
        var configPath = Path.Combine(directory, "proxy.json");
        await File.WriteAllTextAsync(configPath, config.ToJsonString(), TestContext.Current.CancellationToken);

        var source = new ConfigSource(configPath, UseEnvironment: false);
        var loaded = policyClients is null
            ? SettingsLoader.Load(source)
            : await SettingsLoader.LoadAsync(source, policyClients, TestContext.Current.CancellationToken);
        Assert.True(loaded.Settings is not null, "test config rejected: " + string.Join("; ", loaded.Errors));
        var app = ProxyApplication.Build(loaded.Settings!, loaded.Source, loaded.Configuration, services);
        await app.StartAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30));
        return new ProxyServer(app, directory, configPath, accessLog);
    }

    public HttpClient CreateClient(bool trustTestCa = true, ICredentials? credentials = null)
    {
        var handler = new SocketsHttpHandler
        {
            Proxy = new WebProxy(ProxyUri) { Credentials = credentials },
            UseProxy = true,
            AllowAutoRedirect = false,
            UseCookies = false,
        };
        if (trustTestCa)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                TestCertificates.Validate(certificate as System.Security.Cryptography.X509Certificates.X509Certificate2);
        }

        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Waits until the access log holds at least <paramref name="count"/> lines and returns them.</summary>
    public async Task<string[]> AccessLogLinesAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var lines = File.Exists(AccessLogPath)
                ? (await File.ReadAllLinesAsync(AccessLogPath, TestContext.Current.CancellationToken)).Where(l => l.Length > 0).ToArray()
                : [];
            if (lines.Length >= count || DateTime.UtcNow > deadline)
            {
                Assert.True(lines.Length >= count, $"expected {count} access log lines, found {lines.Length}: {string.Join(" | ", lines)}");
                return lines;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Replaces the config file the proxy watches, keeping its access log where it is.</summary>
    public Task RewriteConfigAsync(JsonObject config)
    {
        config["Proxy"]!["AccessLog"] ??= new JsonObject { ["Path"] = AccessLogPath };
        return File.WriteAllTextAsync(ConfigPath, config.ToJsonString(), TestContext.Current.CancellationToken);
    }

    public Task StopAsync() => _app.StopAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        await _app.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
