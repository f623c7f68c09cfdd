namespace EgressLab.ProxyInstance.Configuration;

/// <summary>The <c>Proxy</c> configuration section: the file format, bound from JSON and environment variables.</summary>
/// <remarks>
/// These types are the data transfer shape only. The hot path never reads them: they are validated and
/// compiled into an immutable runtime model (see <see cref="RuntimeSettings"/>) that is swapped atomically on reload.
/// </remarks>
internal sealed class ProxyOptions
{
    public const string SectionName = "Proxy";

    /// <summary>Endpoints the proxy listens on, as <c>address:port</c>. The default is <c>0.0.0.0:3128</c>.</summary>
    public List<string> Listen { get; set; } = [];

    /// <summary>Endpoint of the admin server (<c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>). The default is <c>127.0.0.1:9128</c>; an empty string turns it off.</summary>
    public string? AdminListen { get; set; }

    public PolicyOptions Policy { get; set; } = new();

    /// <summary>Where the <c>Policy</c> section comes from instead of this file. The default is this file.</summary>
    public PolicySourceOptions PolicySource { get; set; } = new();

    public AccessLogOptions AccessLog { get; set; } = new();

    public AuthenticationOptions Authentication { get; set; } = new();

    public HeaderOptions Headers { get; set; } = new();

    public TimeoutOptions Timeouts { get; set; } = new();

    public DnsOptions Dns { get; set; } = new();

    public LimitOptions Limits { get; set; } = new();

    /// <summary>Run request and tunnel code on the threads that wait for socket events instead of handing each event to
    /// the thread pool. The default is <c>true</c>.</summary>
    public bool? InlineSocketCompletions { get; set; }

    /// <summary>How many threads wait for socket events (and, inline, run the proxy's code). The default is one per
    /// processor.</summary>
    public int? SocketThreads { get; set; }

    /// <summary><c>Auto</c>, <c>On</c> (or <c>true</c>) or <c>Off</c> (or <c>false</c>): whether a tunnel moves its bulk
    /// downloads from the destination to the client with splice(2) on Linux instead of copying them through the proxy.
    /// The default is <c>Auto</c>: for clients on other hosts, not for one on the proxy's own host.</summary>
    public string? SpliceTunnels { get; set; }
}

internal sealed class PolicyOptions
{
    /// <summary><c>Allow</c> or <c>Deny</c>: what happens when no rule matches. The default is <c>Deny</c>.</summary>
    public string? DefaultAction { get; set; }

    /// <summary>Refuse destinations whose address is loopback, private, link-local, CGNAT, multicast, the proxy's own, and so on. The default is <c>true</c>.</summary>
    public bool? DenyPrivateDestinations { get; set; }

    /// <summary>CIDRs exempt from <see cref="DenyPrivateDestinations"/>. The default is none.</summary>
    public List<string> AllowedPrivateDestinations { get; set; } = [];

    /// <summary><c>true</c>/<c>Require</c>, <c>AllowMissing</c> or <c>false</c>/<c>Off</c>: whether a tunnel's TLS SNI must match the CONNECT host. The default is <c>Require</c>.</summary>
    public string? RequireSniMatch { get; set; }

    /// <summary>
    /// <c>Deny</c> or <c>Allow</c>: what happens to a tunnel whose first bytes are neither a TLS ClientHello nor an
    /// HTTP/1.x request, or in which the destination speaks first. The default is <c>Deny</c> when
    /// <see cref="RequireSniMatch"/> is <c>Require</c> and <c>Allow</c> when it is <c>AllowMissing</c>.
    /// </summary>
    public string? OtherTunnelProtocols { get; set; }

    /// <summary>Rules, evaluated in order; the first that matches decides.</summary>
    public List<RuleOptions> Rules { get; set; } = [];

    /// <summary>
    /// <c>Enforce</c> or <c>Report</c>: whether denials (by rules without a <see cref="RuleOptions.Mode"/> of their own,
    /// and by the default action) refuse the request or let it through and are recorded as <c>would_deny</c>. The
    /// default is <c>Enforce</c>.
    /// </summary>
    public string? Mode { get; set; }

    /// <summary>Client CIDRs whose denials are only reported, as under <see cref="Mode"/> <c>Report</c>. The default is none.</summary>
    public List<string>? ReportSources { get; set; }
}

internal sealed class PolicySourceOptions
{
    /// <summary>
    /// Name of the AWS Systems Manager parameter (String or SecureString) whose value is the <c>Policy</c> section as
    /// JSON, e.g. <c>/egress/proxy/policy</c>. The default is none: the policy comes from the configuration file.
    /// </summary>
    public string? SsmParameter { get; set; }

    /// <summary>AWS region of the parameter, e.g. <c>eu-west-1</c>. The default is the SDK's region chain
    /// (<c>AWS_REGION</c>, the profile, the instance's own region on EC2).</summary>
    public string? Region { get; set; }

    /// <summary>How often the parameter's version is checked. The default is 1 minute.</summary>
    public TimeSpan? PollInterval { get; set; }

    /// <summary>Systems Manager endpoint URL instead of the region's, e.g. for a stand-in. The default is the region's.</summary>
    public string? Endpoint { get; set; }
}

internal sealed class RuleOptions
{
    /// <summary>Name reported in logs, metrics and error responses. Required and unique.</summary>
    public string? Name { get; set; }

    /// <summary><c>Allow</c> or <c>Deny</c>. Required.</summary>
    public string? Action { get; set; }

    /// <summary>Client CIDRs. Absent: any client.</summary>
    public List<string>? Sources { get; set; }

    /// <summary>Destination name patterns: <c>example.com</c> (exact), <c>.example.com</c> (name and subdomains), <c>*.example.com</c> (subdomains only). Absent: any name.</summary>
    public List<string>? Domains { get; set; }

    /// <summary>CIDRs that IP-literal destinations must fall in. Absent: any address.</summary>
    public List<string>? DestinationCidrs { get; set; }

    /// <summary>Destination ports. Absent: 80 and 443 only.</summary>
    public List<int>? Ports { get; set; }

    /// <summary>HTTP methods, <c>CONNECT</c> included. Absent: any method.</summary>
    public List<string>? Methods { get; set; }

    /// <summary>Authenticated user names. Absent: anyone, authenticated or not.</summary>
    public List<string>? Users { get; set; }

    /// <summary>
    /// Allow <see cref="Domains"/> patterns such as <c>*.github.io</c> that cover every name under a suffix in the
    /// private section of the Public Suffix List, where others register names. The default is <c>false</c>: such a
    /// pattern is a configuration error. Patterns covering an ICANN suffix (<c>.com</c>, <c>*.co.uk</c>) are errors
    /// whatever this says.
    /// </summary>
    public bool? AllowPublicSuffixWildcards { get; set; }

    /// <summary><c>Enforce</c> or <c>Report</c>, for a Deny rule only. Absent: the policy's <see cref="PolicyOptions.Mode"/> and <see cref="PolicyOptions.ReportSources"/> decide.</summary>
    public string? Mode { get; set; }
}

internal sealed class AccessLogOptions
{
    /// <summary><c>squid</c> (Squid's native access.log format) or <c>json</c>. The default is <c>squid</c>.</summary>
    public string? Format { get; set; }

    /// <summary>File to append to; absent or <c>-</c> writes to standard output. The default is standard output.</summary>
    public string? Path { get; set; }
}

internal sealed class AuthenticationOptions
{
    /// <summary><c>None</c> or <c>Basic</c>. The default is <c>None</c>.</summary>
    public string? Scheme { get; set; }

    /// <summary>File of <c>user:hash</c> lines, hashes in SHA-crypt form (<c>$6$...</c> or <c>$5$...</c>, as from <c>openssl passwd -6</c>).</summary>
    public string? UsersFile { get; set; }

    /// <summary>Realm sent in <c>Proxy-Authenticate</c>. The default is <c>egress-proxy</c>.</summary>
    public string? Realm { get; set; }
}

internal sealed class HeaderOptions
{
    /// <summary>Add a <c>Via</c> header to forwarded plain-HTTP requests and responses. The default is <c>false</c>.</summary>
    public bool? AddVia { get; set; }

    /// <summary>Append the client address to <c>X-Forwarded-For</c> on forwarded plain-HTTP requests. The default is <c>false</c>.</summary>
    public bool? AddXForwardedFor { get; set; }
}

internal sealed class TimeoutOptions
{
    /// <summary>How long a DNS lookup may take. The default is 5 seconds.</summary>
    public TimeSpan? Dns { get; set; }

    /// <summary>How long a TCP connect to a destination may take. The default is 10 seconds.</summary>
    public TimeSpan? Connect { get; set; }

    /// <summary>How long a tunnel may carry no bytes in either direction before it is closed. The default is 5 minutes.</summary>
    public TimeSpan? TunnelIdle { get; set; }

    /// <summary>How long the request head (request line and headers) may take to arrive. The default is 30 seconds.</summary>
    public TimeSpan? RequestHeaders { get; set; }

    /// <summary>How long a plain-HTTP upstream may take to start its response. The default is 60 seconds.</summary>
    public TimeSpan? UpstreamResponse { get; set; }

    /// <summary>The longest a plain-HTTP request body may go without a byte arriving from the client. The default is 60 seconds.</summary>
    public TimeSpan? RequestBody { get; set; }

    /// <summary>How long a tunnel waits for the client's TLS ClientHello when SNI is checked. The default is 10 seconds.</summary>
    public TimeSpan? ClientHello { get; set; }

    /// <summary>On SIGTERM, how long open requests and tunnels may run before they are closed. The default is 30 seconds.</summary>
    public TimeSpan? Drain { get; set; }
}

internal sealed class DnsOptions
{
    /// <summary>Static name-to-address entries consulted before the system resolver, like Squid's <c>hosts_file</c>. The default is none.</summary>
    public Dictionary<string, List<string>> Hosts { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long a successful lookup's addresses are reused; <c>00:00:00</c> turns the cache off. The default is 30 seconds.</summary>
    public TimeSpan? CacheTtl { get; set; }
}

internal sealed class LimitOptions
{
    /// <summary>Largest request head (request line plus headers), in bytes. The default is 65536.</summary>
    public int? MaxRequestHeadBytes { get; set; }

    /// <summary>Most connections open at once from clients. The default is 10000.</summary>
    public int? MaxConnections { get; set; }

    /// <summary>Most tunnels one client address may have open at once. The default is no limit.</summary>
    public int? MaxTunnelsPerClient { get; set; }

    /// <summary>Requests (and CONNECTs) per second one client address may make, on average. The default is no limit.</summary>
    public double? RequestsPerSecondPerClient { get; set; }

    /// <summary>Requests one client address may make at once above its rate. The default is one second's worth, at least 1.</summary>
    public int? RequestBurstPerClient { get; set; }
}
