using EgressLab.ProxyInstance.Allowlist;
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
                await Console.Error.WriteLineAsync($"error: {command.Error}\n\n{command.HelpText}").ConfigureAwait(false);
                return 2;
            case CommandKind.Allowlist:
                return AllowlistCommand.Run(command.Allowlist!, new CommandConsole(Console.In, Console.Out, Console.Error), TimeProvider.System);
        }

        var loaded = await SettingsLoader.LoadAsync(new ConfigSource(command.ConfigPath), policySource => new SsmPolicyParameterClient(policySource),
            CancellationToken.None).ConfigureAwait(false);
        var (settings, source, errors) = (loaded.Settings, loaded.Source, loaded.Errors);
        if (settings is null)
        {
            ConfigCheck.WriteProblems(Console.Error, source, errors, $"the proxy {(command.Kind == CommandKind.CheckConfig ? "would refuse to start" : "refuses to start")}");
            return 1;
        }

        if (command.Kind == CommandKind.CheckConfig)
        {
            Console.Out.WriteLine($"{source.Describe()} is valid: {settings.Policy.RuleCount} rule(s), listening on {string.Join(", ", settings.Listen)}.");
            return 0;
        }

        SocketRuntime.Apply(settings);

        await using var app = ProxyApplication.Build(settings, source, loaded.Configuration);
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException or System.Net.Sockets.SocketException)
        {
            // Kestrel's message names the address ("Failed to bind to address http://127.0.0.1:3128: address already in use.").
            await Console.Error.WriteLineAsync(
                $"error: {e.Message.TrimEnd('.')}. Stop what holds it, or listen elsewhere (Proxy.Listen, Proxy.AdminListen); the proxy did not start.").ConfigureAwait(false);
            return 1;
        }

        await app.WaitForShutdownAsync().ConfigureAwait(false);
        return 0;
    }
}
