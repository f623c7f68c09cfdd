using System.Runtime.InteropServices;

namespace EgressLab.Provisioner.Lab;

/// <summary>What the lab needs from the machine: root, the network tools, the servers, and the proxy build.</summary>
internal static class LabPrerequisites
{
    /// <summary>Program → the Debian package that provides it.</summary>
    private static readonly (string Program, string Package)[] Tools =
    [
        ("ip", "iproute2"),
        ("nft", "nftables"),
        ("iptables", "iptables"),
        ("conntrack", "conntrack"),
        ("sysctl", "procps"),
        ("setsid", "util-linux"),
        ("dnsmasq", "dnsmasq-base"),
        ("nginx", "nginx"),
        ("curl", "curl"),
        ("ping", "iputils-ping"),
        ("bash", "bash"),
    ];

    /// <summary>Every problem that stops the lab here, each with its fix; empty when the lab can run.</summary>
    /// <param name="needServers">False for commands that only look at or tear down a lab (no servers started).</param>
    public static IReadOnlyList<string> Check(bool needServers = true)
    {
        var problems = new List<string>();
        if (!Environment.IsPrivilegedProcess)
        {
            problems.Add("the lab creates network namespaces and firewall rules, which needs root: run it with sudo (sudo dotnet run --project src/Provisioner -- lab ...)");
        }

        var missing = Tools.Where(t => (needServers || t.Program is "ip" or "nft" or "iptables") && FindOnPath(t.Program) is null).ToList();
        if (missing.Count > 0)
        {
            problems.Add($"missing {string.Join(", ", missing.Select(t => t.Program))}: install with apt-get install {string.Join(' ', missing.Select(t => t.Package).Distinct())}");
        }

        return problems;
    }

    public static string? FindOnPath(string program)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/sbin"]))
        {
            var candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The dotnet host that runs this process, to run the proxy instance with.</summary>
    public static string DotnetHost()
    {
        // The runtime lives at <root>/shared/Microsoft.NETCore.App/<version>/; the host is <root>/dotnet.
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var host = Path.Combine(root, "dotnet");
        return File.Exists(host) ? host : FindOnPath("dotnet") ?? throw new FileNotFoundException("cannot find the dotnet host to run the proxy instance with; put dotnet on PATH");
    }

    /// <summary>
    /// The proxy instance to run: EGRESS_LAB_PROXY if set, else the build next to this one in the repository
    /// (src/ProxyInstance/bin/&lt;configuration&gt;/net10.0), which building the provisioner also builds.
    /// </summary>
    public static string ProxyAssembly()
    {
        if (Environment.GetEnvironmentVariable("EGRESS_LAB_PROXY") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : throw new FileNotFoundException($"EGRESS_LAB_PROXY names {configured}, which does not exist");
        }

        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = here.Name;
        var configuration = here.Parent?.Name ?? "Debug";
        for (var directory = here; directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "src", "ProxyInstance", "bin", configuration, framework, "ProxyInstance.dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("cannot find ProxyInstance.dll: build it (dotnet build src/ProxyInstance) or set EGRESS_LAB_PROXY to its path");
    }
}
