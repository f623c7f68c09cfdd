using System.Net;
using System.Runtime.InteropServices;
using EgressLab.ProxyInstance.Metrics;
using EgressLab.ProxyInstance.Policy;

namespace EgressLab.ProxyInstance.Configuration;

/// <summary>
/// Holds the settings in force and replaces them when the configuration file (or the users file) changes,
/// or on SIGHUP. A new configuration that fails validation is logged with every problem and never replaces
/// the one in force.
/// </summary>
internal sealed partial class RuntimeSettingsStore : IHostedService, IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(300);

    private ConfigSource _source;
    private readonly IReadOnlyCollection<IPAddress>? _ownAddresses;
    private readonly ILogger<RuntimeSettingsStore> _logger;
    private readonly ProxyMetrics _metrics;
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly Lock _reloadLock = new();
    private readonly ITimer? _debounceTimer;
    private PosixSignalRegistration? _sighup;
    private volatile RuntimeSettings _current;

    public RuntimeSettingsStore(RuntimeSettings initial, ConfigSource source, IReadOnlyCollection<IPAddress>? ownAddresses,
        ILogger<RuntimeSettingsStore> logger, ProxyMetrics metrics, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _current = initial;
        Startup = initial;
        _source = source;
        _ownAddresses = ownAddresses;
        _logger = logger;
        _metrics = metrics;
        _debounceTimer = timeProvider.CreateTimer(_ => Reload("file change"), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// The settings the process started with. Restart-only settings (listeners, limits, head timeout, drain time,
    /// access log) are read from here, so that a reload never applies them to one path and not another.
    /// </summary>
    public RuntimeSettings Startup { get; }

    /// <summary>The settings in force. Read it once per request or tunnel and use that snapshot throughout.</summary>
    public RuntimeSettings Current => _current;

    /// <summary>Raised after new settings are in force.</summary>
    public event Action<RuntimeSettings>? Changed;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var policy = _current.Policy;
        Log.PolicyInForce(_logger, _current.Source, policy.RuleCount, policy.DefaultDecision.Action, policy.Mode, policy.DenyPrivateDestinations, policy.SniMode);
        if (_source.FilePath is { } file)
        {
            Watch(file);
        }

        if (_current.UsersFile is { } usersFile)
        {
            Watch(usersFile);
        }

        if (!OperatingSystem.IsWindows())
        {
            _sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                Reload("SIGHUP");
            });
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        DisposeWatchers();
        return Task.CompletedTask;
    }

    /// <summary>The policy parameter's version in force; <see langword="null"/> when the policy comes from the file.</summary>
    public PolicyDocument? PolicyDocument => Volatile.Read(ref _source).Policy;

    /// <summary>Reads the configuration again; returns whether the new settings are now in force.</summary>
    /// <remarks>The policy parameter's version in force, if any, is kept: the file's other settings are reloaded around it.</remarks>
    public bool Reload(string trigger) => TryApply(null, trigger, ProxyMetrics.FileSource);

    /// <summary>
    /// Applies a new version of the policy parameter, validated exactly as a file reload with the file in force;
    /// returns whether it is now in force. An invalid version is logged and counted, and the previous one stays.
    /// </summary>
    public bool ApplyPolicy(PolicyDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return TryApply(document, $"a new version of SSM parameter '{document.ParameterName}'", ProxyMetrics.ParameterSource);
    }

    /// <summary>Loads the source in force, with <paramref name="document"/> as its policy if given, and swaps it in if valid.</summary>
    private bool TryApply(PolicyDocument? document, string trigger, string sourceLabel)
    {
        lock (_reloadLock)
        {
            var candidate = document is null ? _source : _source with { Policy = document };
            var loaded = SettingsLoader.Load(candidate, _ownAddresses);
            if (loaded.Settings is not { } next)
            {
                _metrics.RecordReload(ok: false, sourceLabel);
                var problems = string.Join("; ", loaded.Errors.Select(e => $"{ConfigPath.ToJsonPath(e.Path)}: {e.Message}"));
                Log.ReloadRejected(_logger, candidate.Describe(), trigger, loaded.Errors.Count, problems);
                return false;
            }

            var previous = _current;
            foreach (var setting in previous.RestartOnlyDifferences(next))
            {
                Log.RestartRequired(_logger, setting);
            }

            Volatile.Write(ref _source, candidate);
            _current = next;
            _metrics.RecordReload(ok: true, sourceLabel);
            Log.Reloaded(_logger, candidate.Describe(), trigger, next.Policy.RuleCount, next.Policy.Mode);
            Changed?.Invoke(next);
            return true;
        }
    }

    private void Watch(string file)
    {
        var fullPath = Path.GetFullPath(file);
        var directory = Path.GetDirectoryName(fullPath);
        if (directory is null || !Directory.Exists(directory))
        {
            return;
        }

        if (Startup.AccessLogPath is { } accessLog && string.Equals(Path.GetDirectoryName(accessLog), directory, StringComparison.Ordinal))
        {
            Log.AccessLogInWatchedDirectory(_logger, accessLog, directory, fullPath);
        }

        // Watch the directory, not the file: editors and config managers replace files by rename.
        var watcher = new FileSystemWatcher(directory, Path.GetFileName(fullPath))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        watcher.Changed += OnFileEvent;
        watcher.Created += OnFileEvent;
        watcher.Renamed += OnFileEvent;
        watcher.EnableRaisingEvents = true;
        _watchers.Add(watcher);
    }

    // A save is often several events (truncate, write, close): reload once they settle.
    private void OnFileEvent(object sender, FileSystemEventArgs e) => _debounceTimer?.Change(Debounce, Timeout.InfiniteTimeSpan);

    private void DisposeWatchers()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }

        _watchers.Clear();
        _sighup?.Dispose();
        _sighup = null;
    }

    public void Dispose()
    {
        DisposeWatchers();
        _debounceTimer?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(100, LogLevel.Information, "Configuration reloaded from {Source} after {Trigger}: {RuleCount} rules in force, policy mode {Mode}")]
        public static partial void Reloaded(ILogger logger, string source, string trigger, int ruleCount, PolicyMode mode);

        [LoggerMessage(101, LogLevel.Error, "Configuration from {Source} rejected after {Trigger}, the previous policy stays in force. {ErrorCount} problem(s): {Problems}")]
        public static partial void ReloadRejected(ILogger logger, string source, string trigger, int errorCount, string problems);

        [LoggerMessage(103, LogLevel.Information, "Policy from {Source}: {RuleCount} rules, default action {DefaultAction}, mode {Mode}, private destinations denied: {DenyPrivate}, SNI check: {SniMode}")]
        public static partial void PolicyInForce(ILogger logger, string source, int ruleCount, PolicyAction defaultAction, PolicyMode mode, bool denyPrivate, SniMode sniMode);

        [LoggerMessage(102, LogLevel.Warning, "Setting {Setting} changed; it takes effect only after a restart")]
        public static partial void RestartRequired(ILogger logger, string setting);

        [LoggerMessage(104, LogLevel.Warning, "The access log {AccessLog} is in {Directory}, which the proxy watches for changes to {File}: every batch of log lines wakes that watcher. Set AccessLog.Path to a file in another directory")]
        public static partial void AccessLogInWatchedDirectory(ILogger logger, string accessLog, string directory, string file);
    }
}
