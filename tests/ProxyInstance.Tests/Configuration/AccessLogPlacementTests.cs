using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Tests.Metrics;
using Microsoft.Extensions.Logging;

namespace EgressLab.ProxyInstance.Tests.Configuration;

/// <summary>The proxy watches its configuration file's directory, so an access log kept there wakes its watcher.</summary>
public sealed class AccessLogPlacementTests : IDisposable
{
    private const string Warning = "which the proxy watches for changes to";

    private readonly string _directory = Directory.CreateTempSubdirectory("egress-log-placement-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Start_AccessLogBesideTheConfigFile_WarnsAndNamesTheSetting()
    {
        var messages = await StartAsync(Path.Combine(_directory, "access.log"));

        var warning = Assert.Single(messages, m => m.Contains(Warning, StringComparison.Ordinal));
        Assert.Contains(Path.Combine(_directory, "access.log"), warning, StringComparison.Ordinal);
        Assert.Contains("Set AccessLog.Path to a file in another directory", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_AccessLogInAnotherDirectory_DoesNotWarn()
    {
        var logs = Directory.CreateDirectory(Path.Combine(_directory, "log")).FullName;

        var messages = await StartAsync(Path.Combine(logs, "access.log"));

        Assert.DoesNotContain(messages, m => m.Contains(Warning, StringComparison.Ordinal));
    }

    private async Task<IReadOnlyCollection<string>> StartAsync(string accessLog)
    {
        var config = Path.Combine(_directory, "proxy.json");
        await File.WriteAllTextAsync(config, $$"""{ "Proxy": { "AccessLog": { "Path": "{{accessLog}}" } } }""", Token);
        var loaded = SettingsLoader.Load(new ConfigSource(config, UseEnvironment: false), []);
        Assert.True(loaded.Settings is not null, string.Join("\n", loaded.Errors.Select(e => e.Message)));
        using var harness = new MetricsHarness();
        var logs = new CapturingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        using var store = new RuntimeSettingsStore(loaded.Settings, loaded.Source, [], loggers.CreateLogger<RuntimeSettingsStore>(), harness.Metrics, TimeProvider.System);

        await store.StartAsync(Token);
        await store.StopAsync(Token);
        return logs.Messages;
    }
}
