using System.CommandLine;
using EgressLab.LoadTests.Cli;

// The lab that compare drives is Linux network namespaces, and the provisioner it uses says so.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace EgressLab.LoadTests;

internal static class Program
{
    /// <summary>How long Ctrl+C (or SIGTERM) waits for a run to stop and say so before the process is ended.</summary>
    private static readonly TimeSpan TerminationTimeout = TimeSpan.FromSeconds(5);

    public static Task<int> Main(string[] args) =>
        RunAsync(args, Console.Out, Console.Error, Environment.GetEnvironmentVariable, CancellationToken.None, TerminationTimeout);

    /// <summary>The root command; each command lives in Cli/ and is added here.</summary>
    public static RootCommand CreateRoot(Func<string, string?> environment)
    {
        var root = new RootCommand("Egress lab load tests: measure the ways out of a private subnet and report them side by side.");
        root.Subcommands.Add(RunCommand.Create(environment));
        root.Subcommands.Add(CompareCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ProbeCommand.Create());
        return root;
    }

    /// <param name="terminationTimeout">With a value, Ctrl+C and SIGTERM cancel the command and wait this long for it;
    /// null (in-process callers) leaves signals alone.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, Func<string, string?> environment,
        CancellationToken cancellationToken, TimeSpan? terminationTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        var parsed = CreateRoot(environment).Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors)
            {
                await error.WriteLineAsync($"error: {problem.Message}").ConfigureAwait(false);
            }

            await error.WriteLineAsync("see --help for the commands and their options.").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = terminationTimeout }, cancellationToken).ConfigureAwait(false);
    }
}
