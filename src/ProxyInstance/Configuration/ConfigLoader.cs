using System.Reflection;
using System.Text.Json;

namespace EgressLab.ProxyInstance.Configuration;

/// <summary>Where configuration comes from: a JSON file (or the embedded default), then environment variables.</summary>
/// <param name="FilePath">The <c>--config</c> file; <see langword="null"/> for the embedded default configuration.</param>
/// <param name="UseEnvironment">Whether <c>Proxy__...</c> environment variables override the file. The default is <see langword="true"/>.</param>
/// <param name="Overrides">Extra key/value pairs applied last (used by hosts that embed the proxy).</param>
internal sealed record ConfigSource(string? FilePath, bool UseEnvironment = true, IReadOnlyDictionary<string, string?>? Overrides = null)
{
    public string Describe() => FilePath is null ? "the embedded default configuration" : $"'{FilePath}'";
}

internal sealed record ConfigLoadResult(IConfigurationRoot? Configuration, ProxyOptions? Options, IReadOnlyList<ConfigError> Errors);

/// <summary>Reads configuration into <see cref="ProxyOptions"/>, reporting every problem with its path.</summary>
internal static class ConfigLoader
{
    private const string DefaultsResource = "EgressLab.ProxyInstance.defaults.json";

    /// <summary>
    /// Builds the configuration. A <c>--config</c> file replaces the embedded default configuration rather than
    /// layering over it: .NET configuration merges arrays by index, so a three-rule default under a one-rule
    /// file would leave rules 2 and 3 of the default silently in force.
    /// </summary>
    public static ConfigLoadResult Load(ConfigSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var errors = new List<ConfigError>();
        var builder = new ConfigurationBuilder();
        if (source.FilePath is null)
        {
            builder.AddJsonStream(OpenDefaults());
        }
        else
        {
            var fullPath = Path.GetFullPath(source.FilePath);
            if (!File.Exists(fullPath))
            {
                errors.Add(new ConfigError("$", $"the configuration file '{fullPath}' does not exist. Check the path given to --config."));
                return new ConfigLoadResult(null, null, errors);
            }

            builder.AddJsonFile(fullPath, optional: false, reloadOnChange: false);
        }

        if (source.UseEnvironment)
        {
            builder.AddEnvironmentVariables();
        }

        if (source.Overrides is { Count: > 0 })
        {
            builder.AddInMemoryCollection(source.Overrides);
        }

        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (InvalidDataException ex)
        {
            // The JSON provider reports a file it failed to read (it vanished, or an I/O error) the same way.
            var cause = Innermost(ex);
            var what = cause is IOException or UnauthorizedAccessException ? "cannot be read" : "is not valid JSON";
            errors.Add(new ConfigError("$", $"{source.Describe()} {what}: {cause.Message}"));
            return new ConfigLoadResult(null, null, errors);
        }
        catch (FormatException ex)
        {
            errors.Add(new ConfigError("$", $"{source.Describe()} cannot be read: {ex.Message}"));
            return new ConfigLoadResult(null, null, errors);
        }

        var section = root.GetSection(ProxyOptions.SectionName);
        if (!section.Exists())
        {
            errors.Add(new ConfigError(ProxyOptions.SectionName, $"{source.Describe()} has no \"Proxy\" section. Put the settings under {{ \"Proxy\": {{ ... }} }}."));
            return new ConfigLoadResult(root, null, errors);
        }

        ConfigShapeChecker.Check(section, typeof(ProxyOptions), errors);
        if (errors.Count > 0)
        {
            return new ConfigLoadResult(root, null, errors);
        }

        var options = section.Get<ProxyOptions>() ?? new ProxyOptions();
        KeepEmptyConditions(section, options);
        return new ConfigLoadResult(root, options, errors);
    }

    /// <summary>
    /// An empty JSON array leaves only a key with an empty value in .NET configuration, which binds as "absent", and an
    /// absent condition matches anything: <c>"Sources": []</c> would silently open a rule to every client. Bind such
    /// conditions as empty lists instead, so the policy compiler rejects them as ambiguous.
    /// </summary>
    private static void KeepEmptyConditions(IConfigurationSection proxy, ProxyOptions options)
    {
        var rules = proxy.GetSection("Policy:Rules").GetChildren().ToList();
        for (var i = 0; i < rules.Count && i < options.Policy.Rules.Count; i++)
        {
            var rule = options.Policy.Rules[i];
            foreach (var condition in rules[i].GetChildren())
            {
                if (!string.IsNullOrEmpty(condition.Value) || condition.GetChildren().Any())
                {
                    continue;
                }

                switch (condition.Key.ToUpperInvariant())
                {
                    case "SOURCES": rule.Sources ??= []; break;
                    case "DOMAINS": rule.Domains ??= []; break;
                    case "DESTINATIONCIDRS": rule.DestinationCidrs ??= []; break;
                    case "PORTS": rule.Ports ??= []; break;
                    case "METHODS": rule.Methods ??= []; break;
                    case "USERS": rule.Users ??= []; break;
                }
            }
        }
    }

    private static Stream OpenDefaults() =>
        Assembly.GetExecutingAssembly().GetManifestResourceStream(DefaultsResource)
        ?? throw new InvalidOperationException($"The embedded resource {DefaultsResource} is missing from the build.");

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex is JsonException json && json.LineNumber is { } line
            ? new InvalidDataException($"{json.Message.Split(" Path:", 2)[0]} (line {line + 1}, position {json.BytePositionInLine + 1})")
            : ex;
    }
}
