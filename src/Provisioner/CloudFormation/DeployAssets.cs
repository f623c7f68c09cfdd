using System.Reflection;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>Files from <c>deploy/</c> that the rendered template carries, embedded so the CLI needs no source tree.</summary>
internal static class DeployAssets
{
    /// <summary>The proxy's systemd unit, <c>deploy/systemd/egress-proxy.service</c>.</summary>
    public static string SystemdUnit => Read("EgressLab.Provisioner.deploy.egress-proxy.service");

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The build lacks the embedded resource {name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
