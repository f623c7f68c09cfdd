using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// Starts what the lab serves: the VPC resolver (dnsmasq, in the router namespace at the VPC base + 2), the
/// internet's checkip and web servers (nginx) and the proxy instance. A service already running is left alone:
/// nginx and the proxy re-read their configuration on change, dnsmasq is restarted only when its file changed.
/// </summary>
internal sealed class LabServiceRunner(LabEnvironment environment, Shell shell, TextWriter log)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    public void Start(TopologyModel model, ref int created)
    {
        var services = new LabServices(environment, model);
        var oldDnsmasq = File.Exists(services.DnsmasqConfig) ? File.ReadAllText(services.DnsmasqConfig) : null;
        var oldNginx = File.Exists(services.NginxConfig) ? File.ReadAllText(services.NginxConfig) : null;
        services.WriteAll();
        var processes = new LabProcesses(shell);

        var dnsmasqChanged = oldDnsmasq != File.ReadAllText(services.DnsmasqConfig);
        if (dnsmasqChanged && LabProcesses.ReadPid(services.DnsmasqPidFile) is { } stale && LabProcesses.IsRunning(stale, "dnsmasq"))
        {
            shell.Run("kill", stale.ToString(System.Globalization.CultureInfo.InvariantCulture));
            LabProcesses.WaitFor(() => !LabProcesses.IsRunning(stale, "dnsmasq"), TimeSpan.FromSeconds(5));
        }

        if (!LabProcesses.IsRunning(services.DnsmasqPidFile, "dnsmasq"))
        {
            processes.StartDetached(environment.Router, services.DnsmasqPidFile, Path.Combine(environment.StateDirectory, "dnsmasq.log"),
                "dnsmasq", "--keep-in-foreground", $"--conf-file={services.DnsmasqConfig}");
            created++;
        }

        var nginxLog = Path.Combine(Path.GetDirectoryName(services.NginxConfig)!, "nginx.log");
        if (!LabProcesses.IsRunning(services.NginxPidFile, "nginx"))
        {
            processes.StartDetached(environment.Internet, services.NginxPidFile, nginxLog,
                "nginx", "-c", services.NginxConfig, "-e", Path.Combine(Path.GetDirectoryName(services.NginxConfig)!, "error.log"), "-g", "daemon off;");
            created++;
        }
        else if (oldNginx != File.ReadAllText(services.NginxConfig))
        {
            shell.RunIn(environment.Internet, "nginx", "-c", services.NginxConfig, "-s", "reload");
        }

        if (model.Instances.FirstOrDefault(i => i.Role == InstanceRole.Proxy) is { } proxy
            && !LabProcesses.IsRunning(services.ProxyPidFile, "ProxyInstance"))
        {
            processes.StartDetached(environment.Namespace(proxy), services.ProxyPidFile, services.ProxyLog,
                LabPrerequisites.DotnetHost(), LabPrerequisites.ProxyAssembly(), "--config", services.ProxyConfig);
            created++;
        }

        WaitUntilServing(model, services);
    }

    private void WaitUntilServing(TopologyModel model, LabServices services)
    {
        var checkip = model.Internet.Hosts.First(h => h.Service == InternetService.CheckIp);
        Require(() => shell.TryRunIn(environment.Internet, "curl", "-s", "-f", "-m", "1", $"http://{checkip.Address}/").Succeeded,
            () => LabProcesses.IsRunning(services.NginxPidFile, "nginx"),
            "nginx (checkip and the web server)", Path.Combine(Path.GetDirectoryName(services.NginxConfig)!, "error.log"));

        if (model.Instances.Count > 0)
        {
            var name = checkip.Names[0];
            Require(() => shell.TryRunIn(environment.Namespace(model.Instances[0]), "getent", "hosts", name).Output.Contains(checkip.Address.ToString(), StringComparison.Ordinal),
                () => LabProcesses.IsRunning(services.DnsmasqPidFile, "dnsmasq"),
                $"the VPC resolver at {model.Vpc.Resolver} (dnsmasq)", Path.Combine(environment.StateDirectory, "dnsmasq.log"));
        }

        if (model.Instances.FirstOrDefault(i => i.Role == InstanceRole.Proxy) is { } proxy)
        {
            Require(() => shell.TryRunIn(environment.Namespace(proxy), "curl", "-s", "-f", "-m", "1", $"http://127.0.0.1:{LabServices.ProxyAdminPort}/readyz").Succeeded,
                () => LabProcesses.IsRunning(services.ProxyPidFile, "ProxyInstance"),
                "the proxy instance", services.ProxyLog);
        }
    }

    private void Require(Func<bool> ready, Func<bool> alive, string what, string logFile)
    {
        var exited = false;
        if (LabProcesses.WaitFor(() => ready() || (exited = !alive()), StartTimeout) && !exited)
        {
            log.WriteLine($"    {what}: serving");
            return;
        }

        var why = exited ? "exited before it served" : $"did not start within {StartTimeout.TotalSeconds:0} s";
        var tail = File.Exists(logFile) ? string.Join("\n      ", File.ReadAllLines(logFile).TakeLast(5)) : "(no log)";
        throw new InvalidOperationException($"{what} {why}; its log ({logFile}) ends:\n      {tail}");
    }
}
