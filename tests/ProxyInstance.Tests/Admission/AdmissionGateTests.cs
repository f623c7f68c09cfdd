using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Admission;

/// <summary>
/// Both front-ends go through one admission gate: the same request gets the same refusal, in the same order of
/// checks (rate limit, authentication, destination, policy), with the same access-log decision and one count in
/// proxy_requests_total, whether it came as CONNECT or as plain HTTP.
/// </summary>
public sealed class AdmissionGateTests
{
    // "Hello world!" under the published SHA-crypt test vector's salt.
    private const string AliceHash = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
    private const string AliceCredentials = "YWxpY2U6SGVsbG8gd29ybGQh";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A case: the setup, the request's host and credentials, and the code, status and decision both paths must give.</summary>
    public static TheoryData<string, string, bool, string, int, string> Cases => new()
    {
        { "open", "www.example.com", false, "OK", 200, "allow" },
        { "open", "WWW.Example.COM.", false, "OK", 200, "allow" },
        { "open", "denied.example.net", false, "ERR_ACCESS_DENIED", 403, "deny" },
        { "open", "1.2.3.999", false, "ERR_INVALID_REQUEST", 400, "none" },
        { "auth", "www.example.com", false, "ERR_AUTH_REQUIRED", 407, "none" },
        { "auth", "1.2.3.999", false, "ERR_AUTH_REQUIRED", 407, "none" },
        { "auth", "www.example.com", true, "OK", 200, "allow" },
        { "auth", "denied.example.net", true, "ERR_ACCESS_DENIED", 403, "deny" },
        { "rate", "www.example.com", false, "ERR_RATE_LIMITED", 429, "none" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BothPaths_SameRequest_SameOutcomeLogAndCount(string setup, string host, bool credentials, string code, int status, string decision)
    {
        await using var origin = await OriginServer.StartAsync();
        var tunnel = await RunAsync(setup, origin.Port, $"CONNECT {host}:{origin.Port} HTTP/1.1\r\nHost: {host}:{origin.Port}\r\n{Auth(credentials)}\r\n");
        var plain = await RunAsync(setup, origin.Port, $"GET http://{host}:{origin.Port}/gate HTTP/1.1\r\nHost: {host}:{origin.Port}\r\n{Auth(credentials)}Connection: close\r\n\r\n");

        foreach (var (head, entry, counted) in new[] { tunnel, plain })
        {
            Assert.StartsWith($"HTTP/1.1 {status} ", head, StringComparison.Ordinal);
            Assert.Equal(code == "OK" ? JsonValueKind.Null : JsonValueKind.String, entry.GetProperty("error").ValueKind);
            if (code != "OK")
            {
                Assert.Equal(code, entry.GetProperty("error").GetString());
                Assert.Contains($"X-Proxy-Error: {code}\r\n", head, StringComparison.Ordinal);
            }

            Assert.Equal(decision, entry.GetProperty("decision").GetString());
            Assert.Equal(credentials ? "alice" : null, entry.GetProperty("user").GetString());

            // The destination the policy judged, in canonical form; none for a request refused before the policy.
            var destination = decision == "none" ? null : $"{host.ToLowerInvariant().TrimEnd('.')}:{origin.Port}";
            Assert.Equal(destination, entry.GetProperty("destination").GetString());

            // A request the policy judged is counted once, under its decision; one refused before it, not at all.
            Assert.Equal(decision == "none" ? 0 : 1, counted);
        }
    }

    private static string Auth(bool credentials) => credentials ? $"Proxy-Authorization: Basic {AliceCredentials}\r\n" : string.Empty;

    private static async Task<(string Head, JsonElement Entry, double Counted)> RunAsync(string setup, int port, string request)
    {
        var policy = new JsonObject
        {
            ["RequireSniMatch"] = "Off",
            ["Rules"] = new JsonArray(new JsonObject { ["Name"] = "origin", ["Action"] = "Allow", ["Domains"] = new JsonArray("www.example.com"), ["Ports"] = new JsonArray(port) }),
        };
        var directory = Directory.CreateTempSubdirectory("egress-gate-").FullName;
        var usersFile = Path.Combine(directory, "users");
        await File.WriteAllTextAsync(usersFile, $"alice:{AliceHash}\n", Token);
        var config = ProxyServer.Config(policy, customize: p =>
        {
            p["AccessLog"] = new JsonObject { ["Format"] = "json" };
            if (setup == "auth")
            {
                p["Authentication"] = new JsonObject { ["Scheme"] = "Basic", ["UsersFile"] = usersFile };
            }

            if (setup == "rate")
            {
                // A burst of one, taken by the first request; the second, the one under test, finds none left.
                p["Limits"] = new JsonObject { ["RequestsPerSecondPerClient"] = 0.001, ["RequestBurstPerClient"] = 1 };
            }
        });
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());
        var skip = 0;
        if (setup == "rate")
        {
            await using var first = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
            await first.SendAsync($"GET http://www.example.com:{port}/first HTTP/1.1\r\nHost: www.example.com:{port}\r\nConnection: close\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 200 ", await first.ReadHeadAsync(), StringComparison.Ordinal);
            skip = 1;
        }

        string head;
        await using (var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint))
        {
            await raw.SendAsync(request);
            head = await raw.ReadHeadAsync();
        }

        var lines = await proxy.AccessLogLinesAsync(skip + 1);
        using var admin = new HttpClient();
        var metrics = await admin.GetStringAsync($"http://{proxy.AdminEndPoint}/metrics", Token);
        var counted = metrics.Split('\n')
            .Where(l => l.StartsWith("proxy_requests_total{", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        Directory.Delete(directory, recursive: true);
        return (head, JsonDocument.Parse(lines[skip]).RootElement.Clone(), counted - skip);
    }
}
