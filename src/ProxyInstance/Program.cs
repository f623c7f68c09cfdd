using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Hosting;

namespace EgressLab.ProxyInstance;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var command = CommandLine.Parse(args);
        switch (command.Kind)
        {
            case CommandKind.Help:
                Console.Out.WriteLine(CommandLine.Usage);
                return 0;
            case CommandKind.Error:
                await Console.Error.WriteLineAsync($"error: {command.Error}\n\n{CommandLine.Usage}").ConfigureAwait(false);
                return 2;
        }

        var source = new ConfigSource(command.ConfigPath);
        var loaded = ConfigLoader.Load(source);
        var errors = new List<ConfigError>(loaded.Errors);
        RuntimeSettings? settings = null;
        if (loaded.Options is { } options)
        {
            RuntimeSettings.TryCreate(options, source.Describe(), null, errors, out settings);
        }

        if (settings is null)
        {
            await Console.Error.WriteLineAsync($"{source.Describe()}: {errors.Count} problem(s); the proxy {(command.Kind == CommandKind.CheckConfig ? "would refuse to start" : "refuses to start")}:").ConfigureAwait(false);
            foreach (var error in errors)
            {
                await Console.Error.WriteLineAsync($"  {ConfigPath.ToJsonPath(error.Path)}: {error.Message}").ConfigureAwait(false);
            }

            return 1;
        }

        if (command.Kind == CommandKind.CheckConfig)
        {
            Console.Out.WriteLine($"{source.Describe()} is valid: {settings.Policy.RuleCount} rule(s), listening on {string.Join(", ", settings.Listen)}.");
            return 0;
        }

        if (settings.InlineSocketCompletions)
        {
            InlineSocketCompletions.Enable();
        }

        await using var app = ProxyApplication.Build(settings, source, loaded.Configuration);
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }
}
