using System.Text.Json.Nodes;
using EgressLab.Provisioner.Processes;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>The proxy's own <c>--check-config</c>, run on a configuration before the lab or a stack hands it to a proxy.</summary>
internal static class ProxyConfigCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Null when the proxy accepts <paramref name="config"/>; otherwise what its <c>--check-config</c> said, with the
    /// temporary file it was written to named <paramref name="describe"/>.
    /// </summary>
    public static string? Refusal(JsonObject config, string describe)
    {
        ArgumentNullException.ThrowIfNull(config);
        var file = Path.Combine(Path.GetTempPath(), $"egress-proxy-check-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, ProxyInstanceConfig.Text(config));
        try
        {
            var result = ProcessRunner.Run(LabPrerequisites.DotnetHost(), [LabPrerequisites.ProxyAssembly(), "--check-config", file], Timeout);
            return result.Succeeded
                ? null
                : (result.Output + result.Error).Trim().Replace($"'{file}'", file, StringComparison.Ordinal).Replace(file, describe, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
