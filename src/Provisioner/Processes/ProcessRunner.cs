using System.Diagnostics;
using System.Text;

namespace EgressLab.Provisioner.Processes;

/// <summary>The result of one external command run to completion.</summary>
internal sealed record CommandResult(string CommandLine, int ExitCode, string Output, string Error)
{
    /// <summary>The exit code given to a command that was killed at its time limit, as timeout(1) does.</summary>
    public const int TimedOut = 124;

    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// The one way the provisioner and the load tests start external programs: arguments always as a list, never
/// through a shell, so names from a topology file or a command line cannot become shell syntax; standard input
/// closed unless given; a program past its time limit is killed with its whole tree.
/// </summary>
internal static class ProcessRunner
{
    /// <summary>Runs a program to completion and captures what it prints; past <paramref name="timeout"/> it is killed and the result's exit code is <see cref="CommandResult.TimedOut"/>.</summary>
    public static CommandResult Run(string program, IReadOnlyList<string> arguments, TimeSpan timeout, string? input = null)
    {
        var (process, output, error) = StartCaptured(program, arguments, input);
        using (process)
        {
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return TimedOutResult(program, arguments, timeout, output.Result, error.Result);
            }

            return new CommandResult(Format(program, arguments), process.ExitCode, output.Result, error.Result);
        }
    }

    /// <summary>
    /// <see cref="Run"/> without holding a thread: past <paramref name="timeout"/> the program is killed (exit code
    /// <see cref="CommandResult.TimedOut"/>); when <paramref name="cancellationToken"/> is cancelled it is killed too,
    /// and the cancellation is thrown.
    /// </summary>
    public static async Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (process, output, error) = StartCaptured(program, arguments, input: null);
        using (process)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                cancellationToken.ThrowIfCancellationRequested();
                return TimedOutResult(program, arguments, timeout, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
            }

            return new CommandResult(Format(program, arguments), process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
        }
    }

    /// <summary>Runs a program to completion, passing each line it prints on as it comes; null when it was killed at <paramref name="timeout"/>.</summary>
    public static int? RunStreaming(string program, IReadOnlyList<string> arguments, TimeSpan timeout, Action<string> onOutput, Action<string> onError)
    {
        using var process = Start(program, arguments, onOutput, onError);
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return null;
        }

        // The parameterless wait also waits for the asynchronous output readers to drain.
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Runs a program on this process's own terminal (its input and output are the user's) and returns its exit code.</summary>
    public static int RunAttached(string program, IReadOnlyList<string> arguments)
    {
        using var process = Process.Start(StartInfo(program, arguments, redirect: false)) ?? throw new InvalidOperationException($"could not start {program}");
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>
    /// Starts a long-running program, passing each line it prints to the callbacks (one line at a time, never two at
    /// once) until it ends. Its standard input is closed. The caller owns the process: it waits for it, or stops it.
    /// </summary>
    public static Process Start(string program, IReadOnlyList<string> arguments, Action<string> onOutput, Action<string> onError)
    {
        var process = new Process { StartInfo = StartInfo(program, arguments, redirect: true) };
        var gate = new object();
        process.OutputDataReceived += (_, line) => Forward(onOutput, line.Data, gate);
        process.ErrorDataReceived += (_, line) => Forward(onError, line.Data, gate);
        var started = false;
        try
        {
            process.Start();
            started = true;
        }
        finally
        {
            // A program that cannot start (not installed) leaves nothing to own.
            if (!started)
            {
                process.Dispose();
            }
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The command line as a user would type it, quoted where needed: for logs and error messages only.</summary>
    public static string Format(string program, IReadOnlyList<string> arguments)
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

    /// <summary>Starts a program with both output streams being read to the end, <paramref name="input"/> written and standard input closed.</summary>
    private static (Process Process, Task<string> Output, Task<string> Error) StartCaptured(string program, IReadOnlyList<string> arguments, string? input)
    {
        var process = Process.Start(StartInfo(program, arguments, redirect: true)) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
        }

        process.StandardInput.Close();
        return (process, output, error);
    }

    private static CommandResult TimedOutResult(string program, IReadOnlyList<string> arguments, TimeSpan timeout, string output, string error) =>
        new(Format(program, arguments), CommandResult.TimedOut, output, $"timed out after {timeout.TotalSeconds:0} s. {error}");

    private static ProcessStartInfo StartInfo(string program, IReadOnlyList<string> arguments, bool redirect)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = redirect,
            RedirectStandardError = redirect,
            RedirectStandardInput = redirect,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static void Forward(Action<string> sink, string? line, object gate)
    {
        if (line is null)
        {
            return;
        }

        lock (gate)
        {
            sink(line);
        }
    }
}
