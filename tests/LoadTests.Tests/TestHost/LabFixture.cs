using System.Net;
using System.Text.Json.Nodes;
using EgressLab.LoadTests.Scenarios;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.LoadTests.Tests.TestHost;

/// <summary>
/// The lab in miniature, on loopback: the origin, and the real proxy in front of it where www.lab.test resolves to
/// 127.0.0.1 and every other name fails to resolve (without asking a DNS server); plus the test CA as a PEM file.
/// </summary>
public sealed class LabFixture : IAsyncLifetime
{
    private readonly TestNetwork _network = new();
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "egress-load-tests", Guid.NewGuid().ToString("N"));

    internal LabOrigin Origin { get; private set; } = null!;
    internal ProxyServer Proxy { get; private set; } = null!;
    internal string CaFile { get; private set; } = null!;

    internal Uri ProxyUri => Proxy.ProxyUri;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        CaFile = TestCertificates.WriteAuthorityPem(_directory);
        Origin = await LabOrigin.StartAsync();
        var config = ProxyServer.Config(
            ProxyServer.AllowAll(Origin.HttpPort, Origin.HttpsPort, Origin.NameOnlyHttpsPort),
            new Dictionary<string, string> { [LabOrigin.Name] = "127.0.0.1" });

        // A request per log line at Information would bury the test output: warnings and errors only.
        config["Serilog"] = new JsonObject
        {
            ["MinimumLevel"] = new JsonObject { ["Default"] = "Warning", ["Override"] = new JsonObject { ["Microsoft.Hosting.Lifetime"] = "Warning" } },
            ["WriteTo"] = new JsonArray(new JsonObject { ["Name"] = "Console", ["Args"] = new JsonObject { ["standardErrorFromLevel"] = "Verbose" } }),
        };
        Proxy = await ProxyServer.StartAsync(config, _network);
    }

    /// <summary>Makes the proxy resolve <paramref name="name"/> to 127.0.0.1 too.</summary>
    internal void MapName(string name) => _network.Map(name, IPAddress.Loopback);

    /// <summary>Trusts the test CA, as --ca-file does.</summary>
    internal CertificateTrust LoadTrust()
    {
        Assert.True(CertificateTrust.TryLoad(CaFile, _ => null, out var trust, out var error), error);
        return trust!;
    }

    public async ValueTask DisposeAsync()
    {
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        if (Origin is not null)
        {
            await Origin.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless.
        }
    }
}
