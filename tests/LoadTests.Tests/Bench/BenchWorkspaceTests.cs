using System.Text.Json.Nodes;
using EgressLab.LoadTests.Bench;

namespace EgressLab.LoadTests.Tests.Bench;

public sealed class BenchWorkspaceTests
{
    [Fact]
    public void Create_ProxyAccessLog_IsInAnExistingDirectoryApartFromTheWatchedConfigs()
    {
        using var workspace = BenchWorkspace.Create();

        // The proxy watches its configuration file's directory; Squid watches nothing, so a log flushed beside the
        // proxy's configuration would cost only the proxy a wake per batch.
        foreach (var config in new[] { workspace.ProxyConfig, workspace.IdleProxyConfig })
        {
            var accessLog = JsonNode.Parse(File.ReadAllText(config))!["Proxy"]!["AccessLog"]!["Path"]!.GetValue<string>();
            Assert.Equal(workspace.ProxyAccessLog, accessLog);
            Assert.NotEqual(Path.GetDirectoryName(config), Path.GetDirectoryName(accessLog));
            Assert.True(Directory.Exists(Path.GetDirectoryName(accessLog)), "the proxy needs the access log's directory to exist");
        }
    }
}
