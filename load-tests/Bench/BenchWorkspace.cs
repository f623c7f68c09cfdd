using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using EgressLab.Provisioner.Lab;

namespace EgressLab.LoadTests.Bench;

/// <summary>
/// The bench's own directory: the origin's content (/1k and /10m), a CA and the origin's certificate, and the
/// configuration of nginx, Squid and the proxy instance on loopback ports picked here. Every process the bench starts
/// writes its logs inside it; it is deleted at the end unless asked to keep it.
/// </summary>
internal sealed class BenchWorkspace : IDisposable
{
    /// <summary>The origin's name, which both proxies map to 127.0.0.1 themselves (Dns:Hosts, hosts_file).</summary>
    public const string OriginName = "origin.bench.example";

    public const int SmallBytes = 1024;
    public const int BulkBytes = 10 * 1024 * 1024;

    /// <summary>The proxy's socket threads (its event loops, with inline completions): one, as Squid runs one worker.
    /// Both share this machine's processors with wrk, the load generator and nginx; a second event loop there only
    /// competes with them for the same cores (see docs/configuration.md, SocketThreads).</summary>
    public const int ProxySocketThreads = 1;

    private BenchWorkspace(string directory)
    {
        Directory = directory;
        OriginHttpPort = FreePort();
        OriginHttpsPort = FreePort();
        ProxyPort = FreePort();
        SquidPort = FreePort();
        ProxyAdminPort = FreePort();
        while (new[] { OriginHttpPort, OriginHttpsPort, ProxyPort, SquidPort, ProxyAdminPort }.Distinct().Count() < 5)
        {
            ProxyPort = FreePort();
            SquidPort = FreePort();
            ProxyAdminPort = FreePort();
        }
    }

    public string Directory { get; }
    public int OriginHttpPort { get; }
    public int OriginHttpsPort { get; }
    public int ProxyPort { get; }
    public int SquidPort { get; }

    /// <summary>The proxy's admin listener, for its <c>/metrics</c>; the idle-tunnel proxy has none.</summary>
    public int ProxyAdminPort { get; }

    public string ContentDirectory => Path.Combine(Directory, "www");
    public string CaFile => Path.Combine(Directory, "ca.pem");
    public string NginxConfig => Path.Combine(Directory, "nginx", "nginx.conf");
    public string SquidConfig => Path.Combine(Directory, "squid", "squid.conf");
    public string ProxyConfig => Path.Combine(Directory, "proxy", "proxy.json");
    public string IdleProxyConfig => Path.Combine(Directory, "proxy", "proxy-idle.json");
    /// <summary>In a directory of its own: the proxy watches its configuration file's directory, and a log flush there
    /// would wake its watcher, a cost Squid, which watches nothing, does not pay.</summary>
    public string ProxyAccessLog => Path.Combine(Directory, "proxy", "log", "access.log");

    public IPEndPoint ProxyEndPoint => new(IPAddress.Loopback, ProxyPort);
    public IPEndPoint SquidEndPoint => new(IPAddress.Loopback, SquidPort);

    /// <summary>host:port of the origin's plain HTTP server, as the proxies are asked for it.</summary>
    public string HttpAuthority => string.Create(CultureInfo.InvariantCulture, $"{OriginName}:{OriginHttpPort}");

    public string HttpsAuthority => string.Create(CultureInfo.InvariantCulture, $"{OriginName}:{OriginHttpsPort}");

    public static BenchWorkspace Create()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"egress-bench-{Guid.NewGuid():N}"[..26]);
        var workspace = new BenchWorkspace(directory);
        try
        {
            workspace.Write();
            return workspace;
        }
        catch
        {
            workspace.Dispose();
            throw;
        }
    }

    private void Write()
    {
        System.IO.Directory.CreateDirectory(ContentDirectory);
        foreach (var sub in new[] { "nginx", "squid", "proxy", Path.Combine("proxy", "log") })
        {
            System.IO.Directory.CreateDirectory(Path.Combine(Directory, sub));
        }

        // Squid drops root for its own user, which must still read its config and write its logs here.
        File.SetUnixFileMode(Directory, (UnixFileMode)0x1FF);
        File.SetUnixFileMode(Path.Combine(Directory, "squid"), (UnixFileMode)0x1FF);
        File.WriteAllBytes(Path.Combine(ContentDirectory, "1k"), Content(SmallBytes, 1));
        File.WriteAllBytes(Path.Combine(ContentDirectory, "10m"), Content(BulkBytes, 2));
        WriteCertificates();
        File.WriteAllText(NginxConfig, NginxConfigText());
        File.WriteAllText(Path.Combine(Directory, "squid", "hosts"), $"127.0.0.1 {OriginName}\n");
        File.WriteAllText(SquidConfig, SquidConfigText());
        File.WriteAllText(ProxyConfig, ProxyConfigText(idleTunnels: false));
        File.WriteAllText(IdleProxyConfig, ProxyConfigText(idleTunnels: true));
    }

    /// <summary>Incompressible bytes, the same on every run.</summary>
    private static byte[] Content(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private void WriteCertificates()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Egress Lab Bench CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={OriginName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(OriginName);
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var leaf = request.Create(ca, now.AddDays(-1), now.AddDays(6), RandomNumberGenerator.GetBytes(16));

        File.WriteAllText(CaFile, ca.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(Directory, "nginx", "origin.pem"), leaf.ExportCertificatePem() + "\n" + ca.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(Directory, "nginx", "origin.key"), key.ExportPkcs8PrivateKeyPem() + "\n");
    }

    private string NginxConfigText()
    {
        var nginx = Path.Combine(Directory, "nginx");
        var upload = NginxUploadEndpoint.Location("    ").TrimEnd('\n');
        return string.Create(CultureInfo.InvariantCulture, $$"""
            # Written by load-tests bench: the origin, on loopback.
            daemon off;
            worker_processes 1;
            worker_rlimit_nofile 20000;
            pid {{nginx}}/nginx.pid;
            error_log {{nginx}}/error.log warn;
            events { worker_connections 19000; }
            http {
              access_log off;
              sendfile on;
              tcp_nopush on;
              keepalive_requests 10000000;
              keepalive_timeout 300s;
              # Idle tunnels hold a connection open without a request for the whole hold.
              client_header_timeout 600s;
              default_type application/octet-stream;
              client_body_temp_path {{nginx}}/body;
              proxy_temp_path {{nginx}}/proxy;
              fastcgi_temp_path {{nginx}}/fastcgi;
              uwsgi_temp_path {{nginx}}/uwsgi;
              scgi_temp_path {{nginx}}/scgi;
            {{NginxUploadEndpoint.HttpBlock(Path.Combine(nginx, "upload.sock"))}}
              server {
                listen 127.0.0.1:{{OriginHttpPort}};
                root {{ContentDirectory}};
            {{upload}}
              }
              server {
                listen 127.0.0.1:{{OriginHttpsPort}} ssl;
                ssl_certificate {{nginx}}/origin.pem;
                ssl_certificate_key {{nginx}}/origin.key;
                ssl_protocols TLSv1.2 TLSv1.3;
                root {{ContentDirectory}};
            {{upload}}
              }
            }

            """);
    }

    private string SquidConfigText()
    {
        var squid = Path.Combine(Directory, "squid");
        return string.Create(CultureInfo.InvariantCulture, $"""
            # Written by load-tests bench: Squid with the proxy instance's allowlist (one name, the origin's two ports).
            http_port 127.0.0.1:{SquidPort}
            hosts_file {squid}/hosts
            acl allowed dstdomain {OriginName}
            acl origin_ports port {OriginHttpPort} {OriginHttpsPort}
            acl CONNECT method CONNECT
            http_access deny !origin_ports
            http_access allow allowed
            http_access deny all
            {Compare.IncumbentProxy.SquidRunDirectives(squid)}
            """);
    }

    /// <param name="idleTunnels">For the idle-tunnel figure: its tunnels carry plain HTTP, which has no TLS SNI to
    /// check, and stay silent past Timeouts:ClientHello, so the SNI check is off; every other figure runs with the
    /// default (Require).</param>
    private string ProxyConfigText(bool idleTunnels)
    {
        var config = new JsonObject
        {
            ["Proxy"] = new JsonObject
            {
                ["Listen"] = new JsonArray($"127.0.0.1:{ProxyPort.ToString(CultureInfo.InvariantCulture)}"),
                ["AdminListen"] = idleTunnels ? "" : $"127.0.0.1:{ProxyAdminPort.ToString(CultureInfo.InvariantCulture)}",
                ["AccessLog"] = new JsonObject { ["Format"] = "squid", ["Path"] = ProxyAccessLog },
                ["Dns"] = new JsonObject { ["Hosts"] = new JsonObject { [OriginName] = new JsonArray("127.0.0.1") } },
                // The idle-tunnel figure holds 10,000 tunnels from one client.
                ["Limits"] = new JsonObject { ["MaxConnections"] = 20_000 },
                ["SocketThreads"] = ProxySocketThreads,
                ["Policy"] = new JsonObject
                {
                    ["DefaultAction"] = "Deny",
                    ["AllowedPrivateDestinations"] = new JsonArray("127.0.0.1/32"),
                    ["RequireSniMatch"] = idleTunnels ? "Off" : "Require",
                    ["Rules"] = new JsonArray(new JsonObject
                    {
                        ["Name"] = "bench-origin",
                        ["Action"] = "Allow",
                        ["Domains"] = new JsonArray(OriginName),
                        ["Ports"] = new JsonArray(OriginHttpPort, OriginHttpsPort),
                    }),
                },
            },
        };
        return config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A process that has not quite let go of its log; the directory is in /tmp.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
