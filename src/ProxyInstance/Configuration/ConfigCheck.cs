namespace EgressLab.ProxyInstance.Configuration;

/// <summary>Loads and validates a configuration as the proxy does at start, and reports its problems as <c>--check-config</c> does.</summary>
internal static class ConfigCheck
{
    /// <summary>The settings <paramref name="source"/> gives, or null with every problem added to <paramref name="errors"/>.
    /// A <c>PolicySource</c> is checked, but its parameter is not read.</summary>
    public static RuntimeSettings? Load(ConfigSource source, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var loaded = SettingsLoader.Load(source);
        errors.AddRange(loaded.Errors);
        return loaded.Settings;
    }

    /// <summary>Writes the count, what follows from it (<paramref name="consequence"/>), and every problem at its JSON path.</summary>
    public static void WriteProblems(TextWriter writer, ConfigSource source, IReadOnlyList<ConfigError> errors, string consequence)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(errors);
        writer.WriteLine($"{source.Describe()}: {errors.Count} problem(s); {consequence}:");
        foreach (var error in errors)
        {
            writer.WriteLine($"  {ConfigPath.ToJsonPath(error.Path)}: {error.Message}");
        }
    }
}
