using System.Text.Json.Nodes;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Lab;

public sealed class LabServicesTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("egress-lab-services-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public void WriteProxyConfig_AccessLog_IsInAnExistingDirectoryApartFromTheWatchedConfig()
    {
        var loaded = TopologyLoader.Load(DefaultTopology.Path);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        var services = new LabServices(new LabEnvironment("eltest-services", _state), loaded.Model!);

        services.WriteProxyConfig(services.ProxyConfigDocument(policy: null));

        // The proxy watches its configuration file's directory: a log flushed there would wake its watcher each time.
        var written = JsonNode.Parse(File.ReadAllText(services.ProxyConfig))!;
        var accessLog = written["Proxy"]!["AccessLog"]!["Path"]!.GetValue<string>();
        Assert.Equal(services.ProxyAccessLog, accessLog);
        Assert.NotEqual(Path.GetDirectoryName(services.ProxyConfig), Path.GetDirectoryName(accessLog));
        Assert.True(Directory.Exists(Path.GetDirectoryName(accessLog)), "the proxy needs the access log's directory to exist");
    }
}
