using System.Globalization;

namespace EgressLab.Provisioner.Lab;

/// <summary>Starts the lab's daemons inside namespaces, detached, and finds out whether they still run.</summary>
internal sealed class LabProcesses(Shell shell)
{
    // The wrapper writes its own pid, then becomes the daemon (kept in the foreground), so the pid file names the
    // daemon itself. Its output goes to a log file: a daemon must not hold the provisioner's pipes open.
    private const string Wrapper = "pidfile=$1; log=$2; shift 2; echo $$ > \"$pidfile\"; exec \"$@\" >>\"$log\" 2>&1 </dev/null";

    public void StartDetached(string netns, string pidFile, string logFile, string program, params string[] arguments)
    {
        shell.Run("ip", ["netns", "exec", netns, "setsid", "-f", "sh", "-c", Wrapper, "sh", pidFile, logFile, program, .. arguments]);
    }

    /// <summary>True when the pid file names a live process whose command line mentions <paramref name="program"/>.</summary>
    public static bool IsRunning(string pidFile, string program) => ReadPid(pidFile) is { } pid && IsRunning(pid, program);

    public static bool IsRunning(int pid, string program)
    {
        try
        {
            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline");
            return commandLine.Contains(program, StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static int? ReadPid(string pidFile)
    {
        try
        {
            return int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Polls <paramref name="ready"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static bool WaitFor(Func<bool> ready, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (ready())
            {
                return true;
            }

            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            Thread.Sleep(100);
        }
    }
}
