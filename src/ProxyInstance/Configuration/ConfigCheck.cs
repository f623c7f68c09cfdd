namespace EgressLab.ProxyInstance.Configuration;

/// <summary>Reports a configuration's problems as <c>--check-config</c> does (<see cref="SettingsLoader"/> finds them).</summary>
internal static class ConfigCheck
{
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
