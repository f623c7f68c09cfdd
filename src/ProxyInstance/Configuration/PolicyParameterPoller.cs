using EgressLab.ProxyInstance.Metrics;

namespace EgressLab.ProxyInstance.Configuration;

/// <summary>When to read the policy parameter next.</summary>
internal static class PolicyPollSchedule
{
    /// <summary>The longest wait after failed reads, unless the poll interval itself is longer.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The wait before the next read. After a good read: the interval, ±10 % so that a fleet started together spreads
    /// its calls. After <paramref name="failures"/> failed reads in a row: exponential back-off from twice the interval,
    /// capped at <see cref="MaxBackoff"/> (or the interval, if longer), with "equal jitter": a random point in the upper
    /// half, so proxies throttled together do not retry together.
    /// </summary>
    /// <param name="interval">The poll interval.</param>
    /// <param name="failures">Failed reads since the last good one.</param>
    /// <param name="random">A random number in [0, 1).</param>
    public static TimeSpan NextDelay(TimeSpan interval, int failures, double random)
    {
        if (failures <= 0)
        {
            return interval * (0.9 + (0.2 * random));
        }

        var cap = interval > MaxBackoff ? interval : MaxBackoff;
        var ceiling = interval * Math.Pow(2, Math.Min(failures, 16));
        if (ceiling > cap)
        {
            ceiling = cap;
        }

        return ceiling * (0.5 + (0.5 * random));
    }
}

/// <summary>
/// Polls the Systems Manager parameter that holds the policy and applies each new version through
/// <see cref="RuntimeSettingsStore.ApplyPolicy"/>. A read that fails leaves the policy in force and backs off; a new
/// version that fails validation is logged and counted once, and the previous policy stays until the next version.
/// </summary>
internal sealed partial class PolicyParameterPoller : BackgroundService
{
    private readonly RuntimeSettingsStore _store;
    private readonly PolicySourceSettings _settings;
    private readonly IPolicyParameterClient _client;
    private readonly ProxyMetrics _metrics;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;
    private readonly ILogger<PolicyParameterPoller> _logger;
    private readonly Func<double> _random;

    public PolicyParameterPoller(RuntimeSettingsStore store, PolicySourceSettings settings, IPolicyParameterClient client, ProxyMetrics metrics,
        TimeProvider timeProvider, ILogger<PolicyParameterPoller> logger, Func<double>? random = null, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        _store = store;
        _settings = settings;
        _client = client;
        _metrics = metrics;
        _delay = delay ?? ((wait, token) => Task.Delay(wait, timeProvider, token));
        _logger = logger;
        _random = random ?? Random.Shared.NextDouble;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The version last read, valid or not: an invalid version is reported once, not at every poll.
        var seen = _store.PolicyDocument?.Version;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _delay(PolicyPollSchedule.NextDelay(_settings.PollInterval, failures, _random()), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            var read = await _client.ReadAsync(_settings.ParameterName, stoppingToken).ConfigureAwait(false);
            if (read.Document is not { } document)
            {
                failures++;
                _metrics.RecordParameterPoll("error");
                Log.ReadFailed(_logger, _settings.Describe(), read.Error, read.Message, failures,
                    PolicyPollSchedule.NextDelay(_settings.PollInterval, failures, 1), read.Hint(_settings.ParameterName));
                continue;
            }

            if (failures > 0)
            {
                Log.ReadRecovered(_logger, _settings.Describe(), failures);
                failures = 0;
            }

            if (document.Version == seen)
            {
                _metrics.RecordParameterPoll("unchanged");
                continue;
            }

            _metrics.RecordParameterPoll("changed");
            seen = document.Version;
            _store.ApplyPolicy(document);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(110, LogLevel.Warning, "Reading the policy from {Parameter} failed ({Error}: {Message}), {Failures} time(s) in a row; the policy in force stays. Next attempt within {Delay}. {Hint}")]
        public static partial void ReadFailed(ILogger logger, string parameter, PolicyParameterError error, string message, int failures, TimeSpan delay, string hint);

        [LoggerMessage(111, LogLevel.Information, "Reading the policy from {Parameter} works again after {Failures} failure(s)")]
        public static partial void ReadRecovered(ILogger logger, string parameter, int failures);
    }
}
