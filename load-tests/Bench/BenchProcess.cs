using System.Diagnostics;
using EgressLab.Provisioner.Processes;

namespace EgressLab.LoadTests.Bench;

/// <summary>A measurement failed or a process it needs would not start; the message says which and why.</summary>
internal sealed class BenchException(string message) : Exception(message);

/// <summary>
/// A server the bench starts (nginx, Squid, the proxy instance): its output goes to a log file, it must become ready
/// within a time limit, and it is stopped with SIGTERM (then killed) when the bench ends, whatever happened.
/// </summary>
internal sealed class BenchProcess : IDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly StreamWriter _log;

    private BenchProcess(string name, Process process, StreamWriter log, string logPath)
    {
        Name = name;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string Name { get; }
    public string LogPath { get; }
    public int Id => _process.Id;

    public static BenchProcess Start(string name, string program, IReadOnlyList<string> arguments, string logPath)
    {
        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        try
        {
            return new BenchProcess(name, ProcessRunner.Start(program, arguments, line => Append(log, line), line => Append(log, line)), log, logPath);
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            log.Dispose();
            throw new BenchException($"cannot start {name} ({program}): {exception.Message}");
        }
    }

    /// <summary>One line of the process's output into its log; the runner passes lines one at a time.</summary>
    private static void Append(StreamWriter log, string line)
    {
        try
        {
            log.WriteLine(line);
        }
        catch (ObjectDisposedException)
        {
            // Output after the process was stopped and its log closed.
        }
    }

    /// <summary>Polls <paramref name="ready"/> until it holds; throws with the log's tail when the process exits first or time runs out.</summary>
    public async Task WaitReadyAsync(Func<CancellationToken, Task<bool>> ready, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new BenchException($"{Name} exited with status {_process.ExitCode} as it started; the end of its output:\n{Tail()}");
            }

            if (await ready(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new BenchException($"{Name} was not ready within {timeout.TotalSeconds:0} s; the end of its output:\n{Tail()}");
    }

    /// <summary>Waits for the process to end by itself; past <paramref name="timeout"/>, it is stopped and that is an error.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BenchException($"{Name} did not finish within {timeout.TotalSeconds:0} s; the end of its output:\n{Tail()}");
        }
    }

    public string Tail(int lines = 12)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var tail = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines).Select(l => "  " + l);
            var text = string.Join('\n', tail);
            return text.Length == 0 ? "  (no output)" : text;
        }
        catch (IOException)
        {
            return "  (no output)";
        }
    }

    /// <summary>CPU time, user and system, the process has used so far.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                SendTerminate(_process.Id);
                if (!_process.WaitForExit(StopTimeout))
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(StopTimeout);
                }
            }

            // Let the output readers reach the end of the streams before the log closes.
            _process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
        finally
        {
            _process.Dispose();
            _log.Dispose();
        }
    }

    private static void SendTerminate(int pid)
    {
        ProcessRunner.Run("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], StopTimeout);
    }
}
