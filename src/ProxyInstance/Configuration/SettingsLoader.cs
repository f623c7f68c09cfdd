using System.Net;

namespace EgressLab.ProxyInstance.Configuration;

/// <summary>The outcome of loading settings: the settings, or every problem found.</summary>
/// <param name="Settings">The compiled settings; <see langword="null"/> when there are errors.</param>
/// <param name="Source">Where they came from, with the policy document that was read, if any.</param>
/// <param name="Configuration">The configuration they were bound from, when it could be built.</param>
/// <param name="Errors">Every problem found.</param>
internal sealed record SettingsLoadResult(RuntimeSettings? Settings, ConfigSource Source, IConfigurationRoot? Configuration, IReadOnlyList<ConfigError> Errors);

/// <summary>Reads, validates and compiles configuration: the one path start-up, <c>--check-config</c> and reloads share.</summary>
internal static class SettingsLoader
{
    /// <summary>Loads <paramref name="source"/> (with the policy document it carries, if any); reads no parameter.</summary>
    public static SettingsLoadResult Load(ConfigSource source, IReadOnlyCollection<IPAddress>? ownAddresses = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var loaded = ConfigLoader.Load(source);
        var errors = new List<ConfigError>(loaded.Errors);
        RuntimeSettings? settings = null;
        if (loaded.Options is { } options)
        {
            RuntimeSettings.TryCreate(options, source.Describe(), ownAddresses, errors, out settings);
        }

        return new SettingsLoadResult(settings, source, loaded.Configuration, errors);
    }

    /// <summary>
    /// Loads <paramref name="source"/>; when its <c>PolicySource</c> names a Systems Manager parameter, reads the
    /// parameter and loads again with the policy it holds. A parameter that cannot be read is an error: the proxy
    /// does not start on a policy it was not given.
    /// </summary>
    public static async Task<SettingsLoadResult> LoadAsync(ConfigSource source, Func<PolicySourceSettings, IPolicyParameterClient> clientFor,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientFor);
        var first = Load(source with { Policy = null });
        if (first.Settings?.PolicySource is not { } policySource)
        {
            return first;
        }

        var client = clientFor(policySource);
        PolicyParameterRead read;
        try
        {
            read = await client.ReadAsync(policySource.ParameterName, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            (client as IDisposable)?.Dispose();
        }

        if (read.Document is not { } document)
        {
            var error = new ConfigError($"{ProxyOptions.SectionName}:PolicySource:SsmParameter",
                $"cannot read the policy from {policySource.Describe()} ({read.Error}): {read.Message} {read.Hint(policySource.ParameterName)}");
            return first with { Settings = null, Errors = [error] };
        }

        return Load(source with { Policy = document });
    }
}
