using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EgressLab.Provisioner.Topology;

/// <summary>
/// The proxy instance's configuration file, written the same way for the lab's namespace and for the AWS user-data:
/// deny by default, the SSRF guard on, SNI must match, and one allow rule for the topology's clients.
/// </summary>
internal static class ProxyInstanceConfig
{
    /// <summary>The admin server's port (/healthz, /readyz, /metrics) in both backends.</summary>
    public const int AdminPort = 9128;

    /// <summary>Builds the configuration document.</summary>
    /// <param name="port">The proxy's listening port.</param>
    /// <param name="adminAddress">Where the admin server listens: loopback for one instance, any address when a load balancer health-checks it.</param>
    /// <param name="accessLogPath">The Squid-format access log file.</param>
    /// <param name="sources">Clients the allow rule covers; the proxy's security group narrows them further.</param>
    /// <param name="domains">The allowlist, as written in the rule.</param>
    public static JsonObject Build(int port, string adminAddress, string accessLogPath, IEnumerable<string> sources, IEnumerable<string> domains) => new()
    {
        ["Proxy"] = new JsonObject
        {
            ["Listen"] = new JsonArray(string.Create(CultureInfo.InvariantCulture, $"0.0.0.0:{port}")),
            ["AdminListen"] = string.Create(CultureInfo.InvariantCulture, $"{adminAddress}:{AdminPort}"),
            ["AccessLog"] = new JsonObject { ["Format"] = "squid", ["Path"] = accessLogPath },
            ["Policy"] = new JsonObject
            {
                ["DefaultAction"] = "Deny",
                ["DenyPrivateDestinations"] = true,
                ["RequireSniMatch"] = true,
                ["Rules"] = new JsonArray(new JsonObject
                {
                    ["Name"] = "allowlist",
                    ["Action"] = "Allow",
                    ["Sources"] = new JsonArray([.. sources.Select(s => (JsonNode)s)]),
                    ["Domains"] = new JsonArray([.. domains.Select(d => (JsonNode)d)]),
                }),
            },
        },
    };

    public static string Text(JsonObject config) => config.ToJsonString(Indented) + "\n";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
