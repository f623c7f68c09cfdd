using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// Where a lab lives on this machine: the prefix of its network namespaces and its state directory. Both can be
/// changed (EGRESS_LAB_PREFIX, EGRESS_LAB_STATE_DIR) so that a test run never touches a lab a user has up.
/// </summary>
internal sealed record LabEnvironment(string Prefix, string StateDirectory)
{
    public const string RouterNode = "router";
    public const string GatewayNode = "igw";
    public const string InternetNode = "internet";

    /// <summary>Names instances may not take, because the lab's own nodes use them.</summary>
    public static readonly IReadOnlySet<string> ReservedNames = new HashSet<string>(StringComparer.Ordinal) { RouterNode, GatewayNode, InternetNode };

    public static LabEnvironment FromEnvironment()
    {
        var problems = new List<string>();
        return new LabEnvironment(
            Environment.GetEnvironmentVariable("EGRESS_LAB_PREFIX") is { Length: > 0 } prefix ? prefix : "egress-lab",
            Environment.GetEnvironmentVariable("EGRESS_LAB_STATE_DIR") is { Length: > 0 } state ? state : "/run/egress-lab")
        {
            NatGateway = NatGatewayEmulation.FromVariables(Environment.GetEnvironmentVariable, problems),
            SettingProblems = problems,
        };
    }

    /// <summary>The limits the lab's NAT gateways enforce. The default is AWS's (350 s idle timeout, 55,000 connections per destination).</summary>
    public NatGatewayEmulation NatGateway { get; init; } = NatGatewayEmulation.Aws;

    /// <summary>Environment variables that could not be used, each with its fix; <c>lab up</c> refuses to build while there are any.</summary>
    public IReadOnlyList<string> SettingProblems { get; init; } = [];

    public string Router => Namespace(RouterNode);

    public string Gateway => Namespace(GatewayNode);

    public string Internet => Namespace(InternetNode);

    public string StateFile => Path.Combine(StateDirectory, "lab.json");

    /// <summary>The CA bundle the lab's clients trust: the lab CA only, because lab hosts reach only lab servers.</summary>
    public string CaBundle => Path.Combine(StateDirectory, "ca", "lab-ca.pem");

    /// <summary>Environment for commands run in a lab host, so OpenSSL-based clients (curl, .NET) trust the lab CA.</summary>
    public IReadOnlyList<string> ClientVariables => [$"SSL_CERT_FILE={CaBundle}", $"CURL_CA_BUNDLE={CaBundle}"];

    public string Namespace(string node) => $"{Prefix}-{node}";

    public string Namespace(InstanceSpec instance) => Namespace(instance.Name);

    /// <summary>Per-namespace files that <c>ip netns exec</c> bind-mounts over /etc (resolv.conf).</summary>
    public static string NetnsEtc(string netns) => Path.Combine("/etc/netns", netns);

    /// <summary>True for a namespace this lab made: the prefix and a dash, so "egress-lab-x" but not "egress-labx".</summary>
    public bool Owns(string netns) => netns.StartsWith(Prefix + "-", StringComparison.Ordinal);
}
