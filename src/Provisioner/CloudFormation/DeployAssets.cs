using System.Reflection;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>Files the rendered template carries, embedded so the CLI needs no source tree.</summary>
internal static class DeployAssets
{
    /// <summary>The NAT instance's user-data, <c>CloudFormation/UserData/nat-instance.sh</c>.</summary>
    public const string NatInstanceScript = "nat-instance.sh";

    /// <summary>What a NAT instance with <c>failover: asg-eni</c> runs first, <c>CloudFormation/UserData/nat-failover.sh</c>.</summary>
    public const string NatFailoverScript = "nat-failover.sh";

    /// <summary>The proxy instance's user-data, <c>CloudFormation/UserData/proxy-instance.sh</c>.</summary>
    public const string ProxyInstanceScript = "proxy-instance.sh";

    /// <summary>The CloudWatch agent's install, <c>CloudFormation/UserData/cloudwatch-agent.sh</c>, appended to every user-data script.</summary>
    public const string CloudWatchAgentScript = "cloudwatch-agent.sh";

    private const string UserDataPrefix = "EgressLab.Provisioner.CloudFormation.UserData.";

    /// <summary>The proxy's systemd unit, <c>deploy/systemd/egress-proxy.service</c>.</summary>
    public static string SystemdUnit => Read("EgressLab.Provisioner.deploy.egress-proxy.service");

    /// <summary>The file names of every embedded user-data script, in ordinal order.</summary>
    public static IReadOnlyList<string> UserDataScripts() =>
        [.. Assembly.GetExecutingAssembly().GetManifestResourceNames()
            .Where(name => name.StartsWith(UserDataPrefix, StringComparison.Ordinal))
            .Select(name => name[UserDataPrefix.Length..])
            .Order(StringComparer.Ordinal)];

    /// <summary>A user-data script's text, an <c>Fn::Sub</c> body: <c>${Name}</c> is CloudFormation's, <c>$name</c> bash's.</summary>
    public static string UserDataScript(string fileName) => Read(UserDataPrefix + fileName);

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The build lacks the embedded resource {name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
