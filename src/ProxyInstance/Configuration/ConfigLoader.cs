using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EgressLab.ProxyInstance.Configuration;

/// <summary>Where configuration comes from: a JSON file (or the embedded default), then environment variables.</summary>
/// <param name="FilePath">The <c>--config</c> file; <see langword="null"/> for the embedded default configuration.</param>
/// <param name="UseEnvironment">Whether <c>Proxy__...</c> environment variables override the file. The default is <see langword="true"/>.</param>
/// <param name="Overrides">Extra key/value pairs applied last (used by hosts that embed the proxy).</param>
internal sealed record ConfigSource(string? FilePath, bool UseEnvironment = true, IReadOnlyDictionary<string, string?>? Overrides = null)
{
    /// <summary>
    /// The policy read from the Systems Manager parameter that <c>PolicySource</c> names; it replaces the file's
    /// <c>Policy</c> section. <see langword="null"/> when the policy comes from the file, or has not been read yet.
    /// </summary>
    public PolicyDocument? Policy { get; init; }

    public string Describe()
    {
        var file = FilePath is null ? "the embedded default configuration" : $"'{FilePath}'";
        return Policy is null ? file : $"{file} with the policy from {Policy.Describe()}";
    }
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

        IConfigurationRoot root;
        try
        {
            var fileRoot = builder.Build();
            root = Layer(new ConfigurationBuilder().AddConfiguration(fileRoot), source).Build();
            if (!string.IsNullOrEmpty(root[$"{ProxyOptions.SectionName}:PolicySource:SsmParameter"]))
            {
                // The parameter's policy replaces the file's Policy section whole, for the reason the file replaces the
                // embedded default: lists merge by index. A Policy section in the file itself would be dead text that
                // looks in force, so it is refused; the embedded default's is simply left out.
                if (source.FilePath is not null && fileRoot.GetSection($"{ProxyOptions.SectionName}:Policy").Exists())
                {
                    errors.Add(new ConfigError($"{ProxyOptions.SectionName}:Policy", $"the policy comes from the SSM parameter '{root[$"{ProxyOptions.SectionName}:PolicySource:SsmParameter"]}' (PolicySource), so this Policy section would be ignored. Move it into the parameter and remove it here, or remove PolicySource to use it."));
                    return new ConfigLoadResult(root, null, errors);
                }

                var withoutPolicy = new ConfigurationBuilder()
                    .AddInMemoryCollection(fileRoot.AsEnumerable().Where(entry => !IsPolicyKey(entry.Key)));
                if (source.Policy is { } document)
                {
                    if (PolicyStream(document, errors) is not { } policy)
                    {
                        return new ConfigLoadResult(root, null, errors);
                    }

                    withoutPolicy.AddJsonStream(policy);
                }

                root = Layer(withoutPolicy, source).Build();
            }
        }
        catch (InvalidDataException ex)
        {
            // The JSON provider reports a file it failed to read (it vanished, or an I/O error) the same way.
            var cause = Innermost(ex);
            var what = cause is IOException or UnauthorizedAccessException ? "cannot be read" : "is not valid JSON";
            errors.Add(new ConfigError("$", $"{(source with { Policy = null }).Describe()} {what}: {cause.Message}"));
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

    /// <summary>Environment variables, then the host's overrides, on top of what <paramref name="builder"/> has.</summary>
    private static IConfigurationBuilder Layer(IConfigurationBuilder builder, ConfigSource source)
    {
        if (source.UseEnvironment)
        {
            builder.AddEnvironmentVariables();
        }

        if (source.Overrides is { Count: > 0 })
        {
            builder.AddInMemoryCollection(source.Overrides);
        }

        return builder;
    }

    private static bool IsPolicyKey(string key) =>
        key.Equals(PolicyPrefix, StringComparison.OrdinalIgnoreCase) || key.StartsWith(PolicyPrefix + ":", StringComparison.OrdinalIgnoreCase);

    private const string PolicyPrefix = ProxyOptions.SectionName + ":Policy";

    /// <summary>The parameter's value, which is the Policy section's, as a configuration file holding just that section.</summary>
    private static MemoryStream? PolicyStream(PolicyDocument document, List<ConfigError> errors)
    {
        JsonNode? node;
        try
        {
            // The same leniency as the JSON configuration provider: comments and trailing commas are accepted.
            node = JsonNode.Parse(document.Json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" (line {line + 1}, position {ex.BytePositionInLine + 1})" : "";
            errors.Add(new ConfigError(PolicyPrefix, $"the value of {document.Describe()} is not valid JSON: {ex.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0]}{where}"));
            return null;
        }

        if (node is not JsonObject policy)
        {
            errors.Add(new ConfigError(PolicyPrefix, $"the value of {document.Describe()} must be a JSON object, the Policy section, as in {{ \"DefaultAction\": \"Deny\", \"Rules\": [ ... ] }}."));
            return null;
        }

        if (policy.ContainsKey(ProxyOptions.SectionName) || policy.ContainsKey("Policy"))
        {
            errors.Add(new ConfigError(PolicyPrefix, $"the value of {document.Describe()} wraps the policy in \"{(policy.ContainsKey("Policy") ? "Policy" : ProxyOptions.SectionName)}\". The parameter holds only the Policy section's value: {{ \"DefaultAction\": ..., \"Rules\": [ ... ] }}."));
            return null;
        }

        var file = new JsonObject { [ProxyOptions.SectionName] = new JsonObject { ["Policy"] = policy } };
        return new MemoryStream(Encoding.UTF8.GetBytes(file.ToJsonString()));
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
