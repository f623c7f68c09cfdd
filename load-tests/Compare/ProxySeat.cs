using System.Globalization;
using System.Net;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Topology;

namespace EgressLab.LoadTests.Compare;

/// <summary>
/// Which proxy serves on the proxy instance's address and port: the egress proxy the lab runs, or an incumbent in
/// its place. Changing seats stops the one serving, starts the other and waits until a request through it works.
/// </summary>
internal sealed class ProxySeat(LabEnvironment environment, TopologyModel model, Shell shell, string proxyNamespace, IPEndPoint endPoint,
    string clientNamespace, string checkUrl)
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly LabServices _services = new(environment, model);
    private IncumbentProxy? _seated;

    /// <summary>Puts <paramref name="incumbent"/> on the seat, or the egress proxy back when null.</summary>
    public void Seat(IncumbentProxy? incumbent)
    {
        if (incumbent?.Name == _seated?.Name)
        {
            return;
        }

        Stop(_seated);
        if (incumbent is null)
        {
            // The lab's own start-up brings the proxy instance back and waits until it is ready.
            var created = 0;
            new LabServiceRunner(environment, shell, TextWriter.Null).Start(model, ref created);
        }
        else
        {
            Start(incumbent);
        }

        _seated = incumbent;
    }

    private string Directory(IncumbentProxy incumbent) => Path.Combine(environment.StateDirectory, "incumbents", incumbent.Name);

    private string PidFile(IncumbentProxy incumbent) => Path.Combine(Directory(incumbent), "run.pid");

    private void Stop(IncumbentProxy? seated)
    {
        var (pidFile, program) = seated is null ? (_services.ProxyPidFile, "ProxyInstance") : (PidFile(seated), seated.Program);
        if (LabProcesses.ReadPid(pidFile) is not { } pid || !LabProcesses.IsRunning(pid, program))
        {
            return;
        }

        shell.TryRun("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]);
        if (!LabProcesses.WaitFor(() => !LabProcesses.IsRunning(pid, program), StopTimeout))
        {
            throw new CompareException($"{program} (pid {pid}) did not stop within {StopTimeout.TotalSeconds:0} s of SIGTERM");
        }
    }

    private void Start(IncumbentProxy incumbent)
    {
        var directory = Directory(incumbent);
        System.IO.Directory.CreateDirectory(directory);
        // Both drop root for an unprivileged user, which must still write its logs here.
        File.SetUnixFileMode(directory, (UnixFileMode)0x1FF);
        var arguments = incumbent.Configure(directory, endPoint.Address, endPoint.Port, model.Proxy.AllowedDomains);
        var log = Path.Combine(directory, "output.log");
        new LabProcesses(shell).StartDetached(proxyNamespace, PidFile(incumbent), log, incumbent.Program, [.. arguments]);
        var proxyUrl = string.Create(CultureInfo.InvariantCulture, $"http://{endPoint}");
        var exited = false;
        var ready = LabProcesses.WaitFor(
            () => shell.TryRun("ip", ["netns", "exec", clientNamespace, "curl", "-s", "-f", "-m", "2", "-x", proxyUrl, checkUrl]).Succeeded
                || (exited = !LabProcesses.IsRunning(PidFile(incumbent), incumbent.Program)),
            StartTimeout);
        if (!ready || exited)
        {
            var tail = File.Exists(log) ? string.Join("\n  ", File.ReadLines(log).TakeLast(8)) : "(no output)";
            throw new CompareException($"{incumbent.Name} {(exited ? "exited before it served" : $"did not serve within {StartTimeout.TotalSeconds:0} s")} on {proxyUrl}; its output ends:\n  {tail}");
        }
    }
}
