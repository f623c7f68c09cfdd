using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace EgressLab.LoadTests.Compare;

/// <summary>
/// A proxy the egress proxy is measured against, run in the proxy instance's place (same namespace, address
/// and port, so the same security group and routes apply) with the same allowlist: Squid or tinyproxy from
/// their Debian packages.
/// </summary>
internal abstract class IncumbentProxy
{
    public static readonly IReadOnlyList<string> Names = ["squid", "tinyproxy"];

    /// <summary><c>squid</c> or <c>tinyproxy</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The program to run, found on PATH (the Debian packages put them in /usr/sbin).</summary>
    public abstract string Program { get; }

    public abstract string Title { get; }

    public string PathId => $"l7-{Name}";

    public static IncumbentProxy Create(string name) => name switch
    {
        "squid" => new SquidProxy(),
        "tinyproxy" => new TinyProxy(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, $"choose from {string.Join(", ", Names)}"),
    };

    /// <summary>Writes its configuration into <paramref name="directory"/> and returns the arguments that run it in the foreground.</summary>
    public abstract IReadOnlyList<string> Configure(string directory, IPAddress address, int port, IReadOnlyList<string> allowedDomains);

    /// <summary>
    /// The allowlist's entries as the proxy instance reads them: <c>example.com</c> is that name only,
    /// <c>.example.com</c> the name and every subdomain.
    /// </summary>
    protected static IEnumerable<(string Name, bool Subdomains)> Domains(IReadOnlyList<string> allowedDomains) =>
        allowedDomains.Select(d => d.StartsWith('.') ? (d[1..], true) : (d, false));

    /// <summary>
    /// The request buffer Squid runs with: larger than any body the load tests send (the bench's largest upload is
    /// 100 MiB), so that it never fills.
    /// </summary>
    /// <remarks>
    /// Squid before 6.11 aborts an upload when its request buffer (<c>client_request_buffer_max_size</c>, 512 KB by
    /// default) is full and the server then takes a few more bytes: it reads the client with no room left, takes the
    /// empty read for the client's close, and logs <c>TCP_MISS_ABORTED/000</c> (Squid bug 5405, fixed in 6.11;
    /// Debian 12 ships 5.7). The client sees its connection closed under it. An upload whose origin reads more slowly
    /// than the client sends, at any size above the buffer, meets it now and then. With a buffer larger than the body
    /// the buffer cannot fill; Squid still forwards as it reads and holds only what the origin has not taken yet.
    /// </remarks>
    public const int SquidRequestBufferMegabytes = 128;

    /// <summary>
    /// How a Squid started by the load tests runs, whatever it allows: no cache (it is a forward proxy under test,
    /// as the proxy instance is), no headers of its own, its access log on, a request buffer uploads cannot fill
    /// (<see cref="SquidRequestBufferMegabytes"/>), and every file in <paramref name="directory"/>.
    /// </summary>
    public static string SquidRunDirectives(string directory) => string.Create(CultureInfo.InvariantCulture, $"""
        cache deny all
        client_request_buffer_max_size {SquidRequestBufferMegabytes} MB
        cache_mem 8 MB
        via off
        forwarded_for delete
        access_log stdio:{Path.Combine(directory, "access.log")} squid
        cache_log {Path.Combine(directory, "cache.log")}
        pid_filename none
        coredump_dir {directory}
        logfile_rotate 0
        shutdown_lifetime 1 seconds
        max_filedescriptors 65536

        """);

    private sealed class SquidProxy : IncumbentProxy
    {
        public override string Name => "squid";
        public override string Program => "squid";
        public override string Title => "Squid (CONNECT and absolute-form HTTP)";

        public override IReadOnlyList<string> Configure(string directory, IPAddress address, int port, IReadOnlyList<string> allowedDomains)
        {
            // Squid's dstdomain: a leading dot means the name and its subdomains, as in the proxy's allowlist.
            var domains = string.Join(' ', Domains(allowedDomains).Select(d => d.Subdomains ? "." + d.Name : d.Name));
            var config = Path.Combine(directory, "squid.conf");
            File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"""
                # Written by load-tests compare: Squid in the proxy instance's place, with its allowlist.
                http_port {address}:{port}
                acl allowed dstdomain {domains}
                acl web_ports port 80 443
                acl CONNECT method CONNECT
                http_access deny !web_ports
                http_access deny CONNECT !web_ports
                http_access allow allowed
                http_access deny all
                {SquidRunDirectives(directory)}
                """));
            return ["-N", "-f", config];
        }
    }

    private sealed class TinyProxy : IncumbentProxy
    {
        public override string Name => "tinyproxy";
        public override string Program => "tinyproxy";
        public override string Title => "tinyproxy (CONNECT and absolute-form HTTP)";

        public override IReadOnlyList<string> Configure(string directory, IPAddress address, int port, IReadOnlyList<string> allowedDomains)
        {
            var filter = Path.Combine(directory, "filter");
            var patterns = new StringBuilder();
            foreach (var (name, subdomains) in Domains(allowedDomains))
            {
                var escaped = Regex.Escape(name);
                patterns.AppendLine(subdomains ? $"(^|\\.){escaped}$" : $"^{escaped}$");
            }

            File.WriteAllText(filter, patterns.ToString());
            var config = Path.Combine(directory, "tinyproxy.conf");
            File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"""
                # Written by load-tests compare: tinyproxy in the proxy instance's place, with its allowlist.
                User nobody
                Group nogroup
                Listen {address}
                Port {port}
                Timeout 600
                MaxClients 4096
                LogFile "{Path.Combine(directory, "tinyproxy.log")}"
                LogLevel Warning
                DisableViaHeader Yes
                FilterDefaultDeny Yes
                FilterType ere
                FilterCaseSensitive Off
                Filter "{filter}"
                ConnectPort 443
                ConnectPort 80

                """));
            return ["-d", "-c", config];
        }
    }
}
