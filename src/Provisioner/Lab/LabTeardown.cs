using System.Globalization;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// Removes a lab: it finds the lab's namespaces by name, not from the state file, so it also cleans up after an
/// `up` that failed or was killed before it wrote anything. Every link, route and rule the lab made lives in one
/// of its namespaces and goes with it; the processes in them are stopped first, since they would keep a
/// namespace alive.
/// </summary>
internal sealed class LabTeardown(LabEnvironment environment, Shell shell, TextWriter log)
{
    public (int Namespaces, int Processes) Down()
    {
        var namespaces = LabBuilder.ExistingNamespaces(shell).Where(environment.Owns).Order(StringComparer.Ordinal).ToList();
        var pids = new List<int>();
        foreach (var netns in namespaces)
        {
            pids.AddRange(shell.TryRun("ip", ["netns", "pids", netns]).Output
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => int.Parse(p.Trim(), NumberStyles.None, CultureInfo.InvariantCulture)));
        }

        Signal(pids, "TERM");
        if (!LabProcesses.WaitFor(() => pids.All(p => !Directory.Exists($"/proc/{p}")), TimeSpan.FromSeconds(5)))
        {
            Signal(pids.Where(p => Directory.Exists($"/proc/{p}")), "KILL");
            LabProcesses.WaitFor(() => pids.All(p => !Directory.Exists($"/proc/{p}")), TimeSpan.FromSeconds(5));
        }

        foreach (var netns in namespaces)
        {
            shell.Run("ip", "netns", "del", netns);
            log.WriteLine($"  removed namespace {netns}");
        }

        if (Directory.Exists("/etc/netns"))
        {
            foreach (var directory in Directory.GetDirectories("/etc/netns").Where(d => environment.Owns(Path.GetFileName(d))))
            {
                Directory.Delete(directory, recursive: true);
            }

            // iproute2 reads /etc/netns only when it exists; an empty one is what the lab left.
            if (Directory.GetFileSystemEntries("/etc/netns").Length == 0)
            {
                Directory.Delete("/etc/netns");
            }
        }

        if (Directory.Exists(environment.StateDirectory))
        {
            Directory.Delete(environment.StateDirectory, recursive: true);
        }

        return (namespaces.Count, pids.Count);
    }

    private void Signal(IEnumerable<int> pids, string signal)
    {
        var list = pids.Select(p => p.ToString(CultureInfo.InvariantCulture)).ToList();
        if (list.Count > 0)
        {
            shell.TryRun("kill", ["-" + signal, .. list]);
        }
    }
}
