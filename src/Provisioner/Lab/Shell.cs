using EgressLab.Provisioner.Processes;

namespace EgressLab.Provisioner.Lab;

/// <summary>An external command the lab needed failed; the message carries the command and what it printed.</summary>
internal sealed class LabCommandException(CommandResult result)
    : Exception($"'{result.CommandLine}' failed with exit code {result.ExitCode}: {FirstLine(result.Error, result.Output)}")
{
    public CommandResult Result { get; } = result;

    private static string FirstLine(string error, string output)
    {
        var text = string.IsNullOrWhiteSpace(error) ? output : error;
        return string.IsNullOrWhiteSpace(text) ? "(no output)" : text.Trim().Split('\n')[0];
    }
}

/// <summary>
/// Runs the system tools the lab is built with (ip, nft, iptables, sysctl). Arguments are passed as a list,
/// never through a shell, so names from a topology file cannot become shell syntax.
/// </summary>
internal sealed class Shell(TextWriter? trace)
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs a command and throws <see cref="LabCommandException"/> when it fails.</summary>
    public CommandResult Run(string program, params string[] arguments) => Check(TryRun(program, arguments));

    /// <summary>Runs a command inside a network namespace and throws when it fails.</summary>
    public CommandResult RunIn(string netns, string program, params string[] arguments) =>
        Check(TryRun("ip", ["netns", "exec", netns, program, .. arguments]));

    public CommandResult TryRunIn(string netns, string program, params string[] arguments) =>
        TryRun("ip", ["netns", "exec", netns, program, .. arguments]);

    /// <summary>Runs a command, feeding <paramref name="input"/> on its standard input, and throws when it fails.</summary>
    public CommandResult RunWithInput(string input, string program, params string[] arguments) =>
        Check(TryRun(program, arguments, input));

    public CommandResult TryRun(string program, IReadOnlyList<string> arguments, string? input = null, TimeSpan? timeout = null)
    {
        trace?.WriteLine($"+ {ProcessRunner.Format(program, arguments)}");
        return ProcessRunner.Run(program, arguments, timeout ?? DefaultTimeout, input);
    }

    private static CommandResult Check(CommandResult result) => result.Succeeded ? result : throw new LabCommandException(result);
}
