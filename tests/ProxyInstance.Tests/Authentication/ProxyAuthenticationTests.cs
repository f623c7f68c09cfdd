using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Authentication;

public sealed class ProxyAuthenticationTests
{
    // The published SHA-crypt test vector: "Hello world!" with salt "saltstring".
    private const string AliceHash = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
    private const string AlicePassword = "Hello world!";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<(OriginServer Origin, ProxyServer Proxy)> StartAsync()
    {
        var origin = await OriginServer.StartAsync();
        var usersFile = Path.Combine(Path.GetTempPath(), $"egress-users-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(usersFile, $"# users\nalice:{AliceHash}\nbob:{AliceHash}\n", Token);
        var policy = new JsonObject
        {
            ["Rules"] = new JsonArray(new JsonObject
            {
                ["Name"] = "alice-only",
                ["Action"] = "Allow",
                ["Users"] = new JsonArray("alice"),
                ["Ports"] = new JsonArray(origin.Port),
            }),
        };
        var config = ProxyServer.Config(policy, customize: p =>
            p["Authentication"] = new JsonObject { ["Scheme"] = "Basic", ["UsersFile"] = usersFile, ["Realm"] = "egress test" });
        return (origin, await ProxyServer.StartAsync(config, new TestNetwork()));
    }

    private static string Basic(string user, string password) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    [Fact]
    public async Task PlainHttp_NoCredentials_Returns407WithChallengeAndSendsNothing()
    {
        var (origin, proxy) = await StartAsync();
        await using (origin)
        await using (proxy)
        {
            using var client = proxy.CreateClient();
            using var response = await client.GetAsync($"http://www.example.com:{origin.Port}/", Token);

            Assert.Equal(HttpStatusCode.ProxyAuthenticationRequired, response.StatusCode);
            Assert.Equal("ERR_AUTH_REQUIRED", response.Headers.GetValues("X-Proxy-Error").Single());
            Assert.Equal("Basic realm=\"egress test\", charset=\"UTF-8\"", response.Headers.ProxyAuthenticate.Single().ToString());
            Assert.Equal(0, origin.Connections);
        }
    }

    [Fact]
    public async Task PlainHttp_ValidCredentials_AreCheckedAndNeverForwarded()
    {
        var (origin, proxy) = await StartAsync();
        await using (origin)
        await using (proxy)
        {
            using var client = proxy.CreateClient(credentials: new NetworkCredential("alice", AlicePassword));
            using var response = await client.GetAsync($"http://www.example.com:{origin.Port}/headers", Token);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(origin.RequestHeaders.Last().ContainsKey("Proxy-Authorization"));
            // HttpClient sends the credentials after the proxy's 407 challenge: two lines, the second the user's.
            var lines = await proxy.AccessLogLinesAsync(2);
            Assert.Contains("TCP_DENIED/407", lines[0], StringComparison.Ordinal);
            Assert.Contains(" alice HIER_DIRECT/", lines[1], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PlainHttp_WrongPassword_Returns407()
    {
        var (origin, proxy) = await StartAsync();
        await using (origin)
        await using (proxy)
        {
            await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
            await raw.SendAsync($"GET http://www.example.com:{origin.Port}/ HTTP/1.1\r\nHost: www.example.com\r\nProxy-Authorization: {Basic("alice", "wrong")}\r\n\r\n");

            Assert.StartsWith("HTTP/1.1 407", await raw.ReadHeadAsync(), StringComparison.Ordinal);
            Assert.Equal(0, origin.Connections);
        }
    }

    [Fact]
    public async Task PlainHttp_AuthenticatedUserNotInRule_Returns403()
    {
        var (origin, proxy) = await StartAsync();
        await using (origin)
        await using (proxy)
        {
            using var client = proxy.CreateClient(credentials: new NetworkCredential("bob", AlicePassword));
            using var response = await client.GetAsync($"http://www.example.com:{origin.Port}/", Token);

            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("ERR_ACCESS_DENIED", response.Headers.GetValues("X-Proxy-Error").Single());
        }
    }

    [Fact]
    public async Task Connect_WithAndWithoutCredentials_407ThenTunnel()
    {
        var (origin, proxy) = await StartAsync();
        await using (origin)
        await using (proxy)
        {
            await using (var anonymous = await RawClient.ConnectAsync(proxy.ProxyEndPoint))
            {
                await anonymous.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n");
                var head = await anonymous.ReadHeadAsync();
                Assert.StartsWith("HTTP/1.1 407 Proxy Authentication Required\r\n", head, StringComparison.Ordinal);
                Assert.Contains("Proxy-Authenticate: Basic realm=\"egress test\"", head, StringComparison.Ordinal);
            }

            await using var alice = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
            await alice.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\nProxy-Authorization: {Basic("alice", AlicePassword)}\r\n\r\n");
            Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\n", await alice.ReadHeadAsync());
        }
    }
}
