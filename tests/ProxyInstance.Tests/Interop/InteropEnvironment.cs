using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>
/// What every interop row shares: a scratch directory, one origin (HTTP and HTTPS, its certificate from the test
/// CA, whose PEM the clients trust), a users file, and a way to start a fresh proxy per row with its own JSON access
/// log. Every name resolves only in the proxy, to 127.0.0.1 (its Dns.Hosts, behind <see cref="TestNetwork"/>, which
/// dials nothing but loopback); the clients never resolve a target themselves, since they all go through the proxy.
/// </summary>
internal sealed class InteropEnvironment : IAsyncDisposable
{
    /// <summary>The name the policy allows, on the origin's two ports.</summary>
    public const string AllowedName = "www.example.com";

    /// <summary>A name no rule allows; the policy refuses it before any lookup.</summary>
    public const string DeniedName = "denied.example.net";

    /// <summary>The one user allowed when the proxy requires authentication: the published SHA-crypt test vector.</summary>
    public static readonly NetworkCredential Alice = new("alice", "Hello world!");

    public static readonly NetworkCredential AliceWithWrongPassword = new("alice", "not her password");

    private const string AliceHash = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";

    private readonly string _usersFile;
    private int _scratch;

    private InteropEnvironment(string directory, OriginServer origin, string caPath, string usersFile)
    {
        Directory = directory;
        Origin = origin;
        CaPath = caPath;
        _usersFile = usersFile;
    }

    public string Directory { get; }
    public OriginServer Origin { get; }
    public string CaPath { get; }

    public static async Task<InteropEnvironment> StartAsync(string name, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), "egress-interop", $"{name}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        var origin = await OriginServer.StartAsync(tls: true, tlsNames: [AllowedName]);
        var usersFile = Path.Combine(directory, "users");
        await File.WriteAllTextAsync(usersFile, $"alice:{AliceHash}\n", cancellationToken);
        return new InteropEnvironment(directory, origin, TestCertificates.WriteAuthorityPem(directory), usersFile);
    }

    /// <summary>http://NAME:port/path on the origin's plain port, or https:// on its TLS port.</summary>
    public Uri Url(bool tls, string path, bool denied = false) =>
        new($"{(tls ? "https" : "http")}://{(denied ? DeniedName : AllowedName)}:{(tls ? Origin.TlsPort : Origin.Port)}{path}");

    /// <summary>A new empty directory for one row: the client's HOME, its output, the proxy's access log.</summary>
    public string NewScratchDirectory(string name)
    {
        var path = Path.Combine(Directory, $"{Interlocked.Increment(ref _scratch):D3}-{name}");
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// A proxy that allows <see cref="AllowedName"/> on the origin's ports (only to alice when
    /// <paramref name="authentication"/> is on, with Basic) and denies everything else, logging JSON lines to
    /// <paramref name="accessLogPath"/>.
    /// </summary>
    public Task<ProxyServer> StartProxyAsync(bool authentication, string accessLogPath)
    {
        var rule = new JsonObject
        {
            ["Name"] = "interop",
            ["Action"] = "Allow",
            ["Domains"] = new JsonArray(AllowedName),
            ["Ports"] = new JsonArray(Origin.Port, Origin.TlsPort),
        };
        if (authentication)
        {
            rule["Users"] = new JsonArray("alice");
        }

        var policy = new JsonObject { ["DefaultAction"] = "Deny", ["Rules"] = new JsonArray(rule) };
        var config = ProxyServer.Config(policy, new Dictionary<string, string> { [AllowedName] = "127.0.0.1" }, proxy =>
        {
            proxy["AccessLog"] = new JsonObject { ["Format"] = "json", ["Path"] = accessLogPath };
            if (authentication)
            {
                proxy["Authentication"] = new JsonObject { ["Scheme"] = "Basic", ["UsersFile"] = _usersFile, ["Realm"] = "interop" };
            }
        });
        return ProxyServer.StartAsync(config, new TestNetwork());
    }

    /// <summary>The access log's lines, read after the proxy is disposed (which drains the log and ends every tunnel).</summary>
    public static async Task<AccessLogLine[]> ReadAccessLogAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var lines = await File.ReadAllLinesAsync(path, cancellationToken);
        return [.. lines.Where(l => l.Length > 0).Select(AccessLogLine.Parse)];
    }

    public async ValueTask DisposeAsync()
    {
        await Origin.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A client that was killed may still hold a file open for a moment; the directory is in /tmp anyway.
        }
    }
}

/// <summary>The fields of one JSON access-log line that the interop rows check.</summary>
internal sealed record AccessLogLine(string Method, string Target, string Result, string? User, string? Error, string? Sni, long BytesUp, long BytesDown, string Json)
{
    public bool Denied => Result.StartsWith("TCP_DENIED/", StringComparison.Ordinal);

    public static AccessLogLine Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var e = document.RootElement;
        return new AccessLogLine(
            e.GetProperty("method").GetString()!, e.GetProperty("target").GetString()!, e.GetProperty("result").GetString()!,
            e.GetProperty("user").GetString(), e.GetProperty("error").GetString(), e.GetProperty("sni").GetString(),
            e.GetProperty("bytes_up").GetInt64(), e.GetProperty("bytes_down").GetInt64(), json);
    }

    public override string ToString() => Json;
}
