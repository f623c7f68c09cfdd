using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;
using EgressLab.Provisioner.Processes;

namespace EgressLab.LoadTests.Results;

/// <summary>Captures the <see cref="RunEnvironment"/>: kernel, runtime, CPUs, the checkout's commit and the command.</summary>
internal static class RunEnvironmentProbe
{
    private static readonly TimeSpan GitTimeout = TimeSpan.FromSeconds(3);

    /// <param name="workingDirectory">Where to look for the git checkout; the current directory by default.</param>
    public static RunEnvironment Capture(string command, DateTimeOffset startedAt, string? workingDirectory = null) => new(
        Kernel(),
        RuntimeInformation.FrameworkDescription,
        Environment.ProcessorCount,
        Commit(workingDirectory ?? Environment.CurrentDirectory),
        command,
        startedAt);

    /// <summary>The program name and arguments as one line a shell would split back into the same arguments.</summary>
    public static string CommandLine(string program, IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var line = new StringBuilder(program);
        foreach (var argument in arguments)
        {
            line.Append(' ').Append(Quote(argument));
        }

        return line.ToString();
    }

    private static string Quote(string argument)
    {
        if (argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@%+".Contains(c, StringComparison.Ordinal)))
        {
            return argument;
        }

        return "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    private static string Kernel()
    {
        const string release = "/proc/sys/kernel/osrelease";
        try
        {
            if (File.Exists(release))
            {
                return File.ReadAllText(release).Trim();
            }
        }
        catch (IOException)
        {
            // Fall through to the runtime's description.
        }
        catch (UnauthorizedAccessException)
        {
            // Likewise.
        }

        return RuntimeInformation.OSDescription;
    }

    /// <summary>The short commit of the git checkout around <paramref name="workingDirectory"/>, or null (not a checkout,
    /// no git, or git too slow to answer).</summary>
    private static string? Commit(string workingDirectory)
    {
        try
        {
            var git = ProcessRunner.Run("git", ["-C", workingDirectory, "rev-parse", "--short", "HEAD"], GitTimeout);
            var commit = git.Output.Trim();
            return git.Succeeded && commit.Length > 0 ? commit : null;
        }
        catch (Win32Exception)
        {
            // git is not installed.
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
