using System.Diagnostics;
using System.Text;

namespace EgressLab.Provisioner.Lab;

/// <summary>The result of one external command.</summary>
internal sealed record CommandResult(string CommandLine, int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;
}

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
        var commandLine = Format(program, arguments);
        trace?.WriteLine($"+ {commandLine}");
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(timeout ?? DefaultTimeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new CommandResult(commandLine, 124, output.Result, $"timed out after {(timeout ?? DefaultTimeout).TotalSeconds:0} s. {error.Result}");
        }

        return new CommandResult(commandLine, process.ExitCode, output.Result, error.Result);
    }

    private static CommandResult Check(CommandResult result) => result.Succeeded ? result : throw new LabCommandException(result);

    internal static string Format(string program, IReadOnlyList<string> arguments)
    {
        var text = new StringBuilder(program);
        foreach (var argument in arguments)
        {
            text.Append(' ');
            text.Append(argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or ';' or '&' or '|')
                ? argument
                : $"'{argument.Replace("'", "'\\''", StringComparison.Ordinal)}'");
        }

        return text.ToString();
    }
}
