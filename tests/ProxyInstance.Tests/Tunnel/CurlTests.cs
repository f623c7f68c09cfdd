using System.Diagnostics;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.Interop;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Tunnel;

/// <summary>The README's first try, with curl as the client: an allowed HTTPS name works, a denied one gets a 403 that says why.</summary>
public sealed class CurlTests
{
    private static Task<ClientProcessResult> CurlAsync(params string[] args)
    {
        var curl = Requirements.FindOnPath("curl");
        Requirements.SkipUnless(curl is not null, "curl is not installed (.ci/run installs it)");
        return PlainTextTunnelTests.RunAsync(curl!, args);
    }

    [Fact]
    public async Task Curl_AllowedHttpsNameWorks_DeniedNameGets403WithReason()
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com"]);
        var policy = new JsonObject
        {
            ["Rules"] = new JsonArray(new JsonObject
            {
                ["Name"] = "example", ["Action"] = "Allow", ["Domains"] = new JsonArray(".example.com"), ["Ports"] = new JsonArray(origin.TlsPort, 443),
            }),
        };
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(policy), new TestNetwork());
        var ca = TestCertificates.WriteAuthorityPem(proxy.Directory);

        var allowed = await CurlAsync("-sS", "--max-time", "30", "-x", proxy.ProxyUri.ToString(), "--cacert", ca, $"https://www.example.com:{origin.TlsPort}/hello");
        var denied = await CurlAsync("-sS", "-v", "--max-time", "30", "-x", proxy.ProxyUri.ToString(), "https://denied.example.net/");

        Assert.True(allowed.ExitCode == 0, allowed.Stderr);
        Assert.Equal("GET /hello from origin", allowed.Stdout);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("HTTP/1.1 403 Forbidden", denied.Stderr, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_ACCESS_DENIED", denied.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Curl_PlainHttpDenied_PrintsTheReason()
    {
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(new JsonObject()), new TestNetwork());

        var denied = await CurlAsync("-sS", "--max-time", "30", "-x", proxy.ProxyUri.ToString(), "http://denied.example.net/");

        Assert.Equal(0, denied.ExitCode);
        Assert.Contains("Access to http://denied.example.net/ is denied by the proxy policy", denied.Stdout, StringComparison.Ordinal);
    }
}
