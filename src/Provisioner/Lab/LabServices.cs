using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// The files behind the lab's services: the lab CA and the web servers' certificate, nginx's configuration
/// (checkip and the web server), dnsmasq's (the VPC resolver) and the proxy instance's.
/// </summary>
internal sealed class LabServices(LabEnvironment environment, TopologyModel model)
{
    /// <summary>Object sizes the web server serves, by path: what the load tests fetch.</summary>
    public static readonly IReadOnlyList<(string Path, int Bytes)> Objects =
    [
        ("1k", 1024),
        ("64k", 64 * 1024),
        ("1m", 1024 * 1024),
        ("10m", 10 * 1024 * 1024),
    ];

    public const int ProxyAdminPort = ProxyInstanceConfig.AdminPort;

    /// <summary>How fast the web host's <c>/drip/</c> paths send: 32 KiB/s, so <c>/drip/10m</c> runs for minutes.</summary>
    public const int DripBytesPerSecond = 32 * 1024;

    private string State => environment.StateDirectory;

    public string NginxConfig => Path.Combine(State, "nginx", "nginx.conf");

    public string NginxPidFile => Path.Combine(State, "nginx", "nginx.pid");

    /// <summary>
    /// The web server's access log, one line per request it answered: how the load tests check that the requests
    /// they counted all reached the server.
    /// </summary>
    public string WebAccessLog => Path.Combine(State, "nginx", "www-access.log");

    public string DnsmasqConfig => Path.Combine(State, "dnsmasq.conf");

    public string DnsmasqPidFile => Path.Combine(State, "dnsmasq.pid");

    public string ProxyConfig => Path.Combine(State, "proxy", "proxy.json");

    public string ProxyPidFile => Path.Combine(State, "proxy", "proxy.pid");

    public string ProxyLog => Path.Combine(State, "proxy", "proxy.log");

    /// <summary>
    /// The proxy's access log, in a directory of its own: the proxy watches the directory of its configuration file, and
    /// every write there, a log flush as much as an edit, wakes its watcher.
    /// </summary>
    public string ProxyAccessLog => Path.Combine(State, "proxy", "log", "access.log");

    /// <summary>Writes every file; existing certificates are kept so clients that trusted the CA still do.</summary>
    public void WriteAll()
    {
        Directory.CreateDirectory(State);
        WriteCertificates();
        WriteWebContent();
        WriteNginx();
        WriteDnsmasq();
        WriteProxyConfig();
    }

    private void WriteCertificates()
    {
        var directory = Path.GetDirectoryName(environment.CaBundle)!;
        Directory.CreateDirectory(directory);
        var serverCert = Path.Combine(directory, "server.pem");
        var serverKey = Path.Combine(directory, "server.key");
        if (File.Exists(environment.CaBundle) && File.Exists(serverCert) && File.Exists(serverKey))
        {
            return;
        }

        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=Egress Lab CA ({model.Name})", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(2));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var names = model.Internet.Hosts.SelectMany(h => h.Names).ToList();
        var request = new CertificateRequest($"CN={names.FirstOrDefault() ?? "lab"}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            san.AddDnsName(name);
        }

        foreach (var host in model.Internet.Hosts)
        {
            san.AddIpAddress(host.Address);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var server = request.Create(ca, now.AddDays(-1), now.AddYears(1), serial);

        File.WriteAllText(serverKey, key.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(serverKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(serverCert, server.ExportCertificatePem() + "\n" + ca.ExportCertificatePem() + "\n");
        File.WriteAllText(environment.CaBundle, ca.ExportCertificatePem() + "\n");
    }

    private void WriteWebContent()
    {
        var root = Path.Combine(State, "www");
        Directory.CreateDirectory(root);
        foreach (var (name, bytes) in Objects)
        {
            var path = Path.Combine(root, name);
            if (File.Exists(path) && new FileInfo(path).Length == bytes)
            {
                continue;
            }

            // Incompressible bytes, so no layer can make the transfer look faster than it is.
            var data = new byte[bytes];
            new Random(bytes).NextBytes(data);
            File.WriteAllBytes(path, data);
        }

        File.WriteAllText(Path.Combine(root, "index.html"), $"<!doctype html><title>{model.Name}</title><p>egress lab web server</p>\n");
    }

    private void WriteNginx()
    {
        var directory = Path.GetDirectoryName(NginxConfig)!;
        Directory.CreateDirectory(Path.Combine(directory, "tmp"));
        var ca = Path.GetDirectoryName(environment.CaBundle)!;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $$"""
            # Written by `lab up`; rewritten on every up. Runs with -g 'daemon off;' under the lab's process wrapper.
            worker_processes 2;
            pid {{NginxPidFile}};
            error_log {{Path.Combine(directory, "error.log")}} warn;
            events { worker_connections 8192; }
            http {
              access_log off;
              default_type application/octet-stream;
              sendfile on;
              keepalive_requests 1000000;
              keepalive_timeout 120s;
              client_body_temp_path {{directory}}/tmp/body;
              proxy_temp_path {{directory}}/tmp/proxy;
              fastcgi_temp_path {{directory}}/tmp/fastcgi;
              uwsgi_temp_path {{directory}}/tmp/uwsgi;
              scgi_temp_path {{directory}}/tmp/scgi;
              ssl_certificate {{ca}}/server.pem;
              ssl_certificate_key {{ca}}/server.key;
              ssl_protocols TLSv1.2 TLSv1.3;

            """);
        text.Append(NginxUploadEndpoint.HttpBlock(Path.Combine(directory, "upload.sock")));
        foreach (var host in model.Internet.Hosts)
        {
            text.Append(CultureInfo.InvariantCulture, $$"""
                  server {
                    listen {{host.Address}}:80;
                    listen {{host.Address}}:443 ssl;
                    server_name {{string.Join(' ', host.Names)}};

                """);
            if (host.Service == InternetService.CheckIp)
            {
                text.Append("""
                        # The source address and port this server sees: what each egress path turns a client into.
                        location / { default_type text/plain; return 200 "$remote_addr:$remote_port\n"; }
                      }

                    """);
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $$"""
                        root {{Path.Combine(State, "www")}};
                        access_log {{WebAccessLog}};

                    """);
                text.Append(NginxUploadEndpoint.Location("    "));
                text.Append(CultureInfo.InvariantCulture, $$"""
                        # The same files, paced by the server (/drip/10m): a transfer that is still running when a
                        # NAT fails, with the far side speaking next.
                        location /drip/ { limit_rate {{DripBytesPerSecond}}; alias {{Path.Combine(State, "www")}}/; }

                    """);
                text.Append("""
                        location / { }
                      }

                    """);
            }
        }

        text.Append("}\n");
        File.WriteAllText(NginxConfig, text.ToString());
    }

    private void WriteDnsmasq()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"""
            # The VPC resolver. Written by `lab up`. Answers lab names only; never asks the host's resolver.
            listen-address={model.Vpc.Resolver}
            bind-interfaces
            no-resolv
            no-hosts
            no-poll
            user=root
            pid-file={DnsmasqPidFile}

            """);
        foreach (var domain in model.Internet.Hosts.SelectMany(h => h.Names).Select(ParentDomain).Distinct())
        {
            text.Append(CultureInfo.InvariantCulture, $"local=/{domain}/\n");
        }

        foreach (var host in model.Internet.Hosts)
        {
            foreach (var name in host.Names)
            {
                text.Append(CultureInfo.InvariantCulture, $"host-record={name},{host.Address}\n");
            }
        }

        File.WriteAllText(DnsmasqConfig, text.ToString());
    }

    /// <summary>The lab proxy's <c>SocketThreads</c>: one event loop, as the configuration reference recommends when the
    /// proxy shares its processors with other busy processes.</summary>
    public const int LabProxySocketThreads = 1;

    private void WriteProxyConfig()
    {
        // A policy set with `lab proxy-policy` is kept in the lab's state, so a second `lab up` does not undo it.
        WriteProxyConfig(ProxyConfigDocument(LabState.Read(environment)?.ProxyPolicy));
    }

    /// <summary>
    /// The proxy's configuration: the topology's allowlist, or <paramref name="policy"/> (a <c>Policy</c> section's
    /// JSON, as <c>lab proxy-policy</c> saves it) in its place.
    /// </summary>
    public JsonObject ProxyConfigDocument(string? policy)
    {
        // Clients from anywhere in the VPC; the proxy's security group narrows that to the private subnet.
        var config = ProxyInstanceConfig.Build(model.Proxy.Port, "127.0.0.1", ProxyAccessLog, [model.Vpc.Cidr.ToString()], model.Proxy.AllowedDomains);
        // Every machine of the lab runs on the host's processors: the load generator, nginx, the NAT instance's kernel
        // and the proxy share them. The configuration reference recommends one event loop for a proxy that shares its
        // processors (as Squid runs one worker); on AWS the proxy instance has its own and keeps the default.
        config["Proxy"]!["SocketThreads"] = LabProxySocketThreads;
        if (policy is not null)
        {
            config["Proxy"]!["Policy"] = JsonNode.Parse(policy);
        }

        return config;
    }

    /// <summary>Replaces the proxy's configuration file in one rename, so that its reload never reads half a file.</summary>
    public void WriteProxyConfig(JsonObject config)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(ProxyConfig)!);
        Directory.CreateDirectory(Path.GetDirectoryName(ProxyAccessLog)!);
        var temporary = ProxyConfig + ".tmp";
        File.WriteAllText(temporary, ProxyInstanceConfig.Text(config));
        File.Move(temporary, ProxyConfig, overwrite: true);
    }

    /// <summary>The zone a lab name lives in: "checkip.lab.test" → "lab.test".</summary>
    private static string ParentDomain(string name)
    {
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 || name.IndexOf('.', dot + 1) < 0 ? name : name[(dot + 1)..];
    }
}
