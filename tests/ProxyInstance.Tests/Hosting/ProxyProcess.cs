using System.Diagnostics;
using System.Text;

namespace EgressLab.ProxyInstance.Tests.Hosting;

/// <summary>Runs the built proxy as its own process, as a user would, and captures what it prints.</summary>
internal sealed class ProxyProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private ProxyProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_stdout) { _stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_stderr) { _stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }

    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    public static ProxyProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        StartExecutable("dotnet", [Path.Combine(AppContext.BaseDirectory, "ProxyInstance.dll"), .. args], environment, workingDirectory);

    /// <summary>Runs <paramref name="executable"/> (a packaged proxy, or the dotnet host) with <paramref name="args"/>.</summary>
    public static ProxyProcess StartExecutable(string executable, IEnumerable<string> args, IDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // A clean environment for the proxy's own settings and the runtime's socket variables: only what the test sets.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("Proxy__", StringComparison.OrdinalIgnoreCase)
                     || k.StartsWith("DOTNET_SYSTEM_NET_SOCKETS_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return new ProxyProcess(Process.Start(info)!);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Waits until the proxy's standard error contains <paramref name="text"/>.</summary>
    public async Task WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Stderr.Contains(text, StringComparison.Ordinal) && !Stdout.Contains(text, StringComparison.Ordinal))
        {
            // Not Assert.False(HasExited, message): the message is built first, and ExitCode throws while the process runs.
            if (_process.HasExited)
            {
                Assert.Fail($"proxy exited early ({_process.ExitCode}): {Stderr}");
            }

            Assert.True(DateTime.UtcNow < deadline, $"'{text}' did not appear. stderr: {Stderr}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    public void SendSignal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }
}
