using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using EgressLab.ProxyInstance.Authentication;
using EgressLab.ProxyInstance.Egress;
using EgressLab.ProxyInstance.Limits;
using EgressLab.ProxyInstance.Policy;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Configuration;

internal enum AccessLogFormat
{
    Squid,
    Json,
}

/// <summary>
/// The validated, compiled and immutable form of <see cref="ProxyOptions"/>. The request path reads only this,
/// through <see cref="RuntimeSettingsStore.Current"/>, which a reload replaces in one reference swap.
/// </summary>
internal sealed class RuntimeSettings : IEgressSettings
{
    public const int DefaultPort = 3128;

    /// <summary>The most socket threads <c>SocketThreads</c> accepts: far more than any instance has processors.</summary>
    public const int MaxSocketThreads = 256;
    public static readonly IPEndPoint DefaultListen = new(IPAddress.Any, DefaultPort);
    public static readonly IPEndPoint DefaultAdminListen = new(IPAddress.Loopback, 9128);

    /// <summary>
    /// The longest timeout accepted. Timers (<see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>, <see cref="Task.Delay(TimeSpan)"/>)
    /// take at most about 49.7 days and throw beyond that, where the timeout is armed: on every tunnel or at shutdown.
    /// </summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(30);

    public required IReadOnlyList<IPEndPoint> Listen { get; init; }
    public required IPEndPoint? AdminListen { get; init; }
    public required CompiledPolicy Policy { get; init; }

    /// <summary>The Systems Manager parameter the policy comes from; <see langword="null"/> when it comes from the file.</summary>
    public required PolicySourceSettings? PolicySource { get; init; }
    public required DestinationGuard Guard { get; init; }
    public required CredentialStore? Credentials { get; init; }

    /// <summary>The users file behind <see cref="Credentials"/>, watched for changes like the config file.</summary>
    public string? UsersFile { get; init; }
    public required string Realm { get; init; }
    public required bool AddVia { get; init; }
    public required bool AddXForwardedFor { get; init; }
    public required TimeSpan DnsTimeout { get; init; }

    /// <summary><c>Dns.CacheTtl</c>: how long a lookup's answer is reused; zero for never.</summary>
    public required TimeSpan DnsCacheTtl { get; init; }
    public required TimeSpan ConnectTimeout { get; init; }
    public required TimeSpan TunnelIdleTimeout { get; init; }
    public required TimeSpan RequestHeadersTimeout { get; init; }
    public required TimeSpan UpstreamResponseTimeout { get; init; }
    public required TimeSpan RequestBodyTimeout { get; init; }
    public required TimeSpan ClientHelloTimeout { get; init; }
    public required TimeSpan DrainTimeout { get; init; }

    /// <summary>Whether socket completions run request code inline, on the socket threads (see docs/configuration.md).</summary>
    public required bool InlineSocketCompletions { get; init; }

    /// <summary>How many socket threads the runtime starts; <c>null</c> leaves it to .NET (one per processor, inline).</summary>
    public required int? SocketThreads { get; init; }

    /// <summary>When new tunnels splice bulk downloads to the client (see docs/configuration.md, <c>SpliceTunnels</c>).</summary>
    public required SpliceMode SpliceTunnels { get; init; }
    public required FrozenDictionary<string, IPAddress[]> StaticHosts { get; init; }
    public required AccessLogFormat AccessLogFormat { get; init; }
    public required string? AccessLogPath { get; init; }
    public required int MaxRequestHeadBytes { get; init; }
    public required int MaxConnections { get; init; }

    /// <summary>Most tunnels open at once per client address; null means no limit.</summary>
    public required int? MaxTunnelsPerClient { get; init; }

    /// <summary>Requests per client address; null means no limit.</summary>
    public required RequestRate? RequestRatePerClient { get; init; }

    /// <summary>Where these settings were read from, for logs.</summary>
    public required string Source { get; init; }

    /// <summary>
    /// Validates and compiles options. Every problem is added to <paramref name="errors"/>; settings are produced
    /// only when there is none.
    /// </summary>
    public static bool TryCreate(ProxyOptions options, string source, IReadOnlyCollection<IPAddress>? ownAddresses, List<ConfigError> errors, out RuntimeSettings? settings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(errors);
        settings = null;
        var before = errors.Count;
        const string root = ProxyOptions.SectionName;

        var listen = new List<IPEndPoint>();
        for (var i = 0; i < options.Listen.Count; i++)
        {
            if (TryParseEndPoint(options.Listen[i], out var endPoint))
            {
                listen.Add(endPoint);
            }
            else
            {
                errors.Add(new ConfigError($"{root}:Listen:{i}", $"'{options.Listen[i]}' is not an address:port endpoint. Write it as \"0.0.0.0:3128\" or \"[::]:3128\"."));
            }
        }

        if (options.Listen.Count == 0)
        {
            listen.Add(DefaultListen);
        }

        IPEndPoint? admin = DefaultAdminListen;
        if (options.AdminListen is not null)
        {
            if (options.AdminListen.Length == 0)
            {
                admin = null;
            }
            else if (TryParseEndPoint(options.AdminListen, out var adminEndPoint))
            {
                admin = adminEndPoint;
                foreach (var endPoint in listen)
                {
                    if (endPoint.Port == adminEndPoint.Port && endPoint.Port != 0 && Overlaps(endPoint.Address, adminEndPoint.Address))
                    {
                        errors.Add(new ConfigError($"{root}:AdminListen", $"'{options.AdminListen}' overlaps the proxy listener {endPoint}. Give the admin server its own port, such as 127.0.0.1:9128."));
                    }
                }
            }
            else
            {
                errors.Add(new ConfigError($"{root}:AdminListen", $"'{options.AdminListen}' is not an address:port endpoint. Write it as \"127.0.0.1:9128\", or \"\" to turn the admin server off."));
            }
        }

        PolicyCompiler.TryCompile(options.Policy, $"{root}:Policy", errors, out var policy);
        PolicySourceSettings.TryCreate(options.PolicySource, $"{root}:PolicySource", errors, out var policySource);

        CredentialStore? credentials = null;
        var scheme = options.Authentication.Scheme;
        if (scheme is null || scheme.Equals("None", StringComparison.OrdinalIgnoreCase))
        {
            if (options.Authentication.UsersFile is not null)
            {
                errors.Add(new ConfigError($"{root}:Authentication:UsersFile", "a users file is set but Authentication:Scheme is not \"Basic\". Set \"Scheme\": \"Basic\" to require credentials, or remove UsersFile."));
            }
        }
        else if (scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(options.Authentication.UsersFile))
            {
                errors.Add(new ConfigError($"{root}:Authentication:UsersFile", "Basic authentication needs a users file of user:hash lines. Create one with: printf '%s:%s\\n' alice \"$(openssl passwd -6)\" > users."));
            }
            else
            {
                var fileErrors = new List<string>();
                if (!CredentialStore.TryLoad(options.Authentication.UsersFile, fileErrors, out credentials))
                {
                    foreach (var message in fileErrors)
                    {
                        errors.Add(new ConfigError($"{root}:Authentication:UsersFile", message));
                    }
                }
            }
        }
        else
        {
            errors.Add(new ConfigError($"{root}:Authentication:Scheme", $"'{scheme}' is not a supported scheme. Use \"None\" or \"Basic\"."));
        }

        if (scheme is null || scheme.Equals("None", StringComparison.OrdinalIgnoreCase))
        {
            for (var i = 0; i < options.Policy.Rules.Count; i++)
            {
                if (options.Policy.Rules[i].Users is { Count: > 0 })
                {
                    errors.Add(new ConfigError($"{root}:Policy:Rules:{i}:Users", "this rule names users, but authentication is off, so it could never match. Set Authentication:Scheme to \"Basic\" with a UsersFile, or remove Users."));
                }
            }
        }

        var format = AccessLogFormat.Squid;
        var formatText = options.AccessLog.Format;
        if (formatText is not null && !Enum.TryParse(formatText, ignoreCase: true, out format))
        {
            errors.Add(new ConfigError($"{root}:AccessLog:Format", $"'{formatText}' is not a log format. Use \"squid\" (Squid's native access.log format) or \"json\"."));
        }

        var logPath = options.AccessLog.Path is null or "" or "-" ? null : Path.GetFullPath(options.AccessLog.Path);
        if (logPath is not null && Path.GetDirectoryName(logPath) is { } directory && !Directory.Exists(directory))
        {
            errors.Add(new ConfigError($"{root}:AccessLog:Path", $"the directory '{directory}' does not exist. Create it, or set Path to \"-\" to log to standard output."));
        }

        var t = options.Timeouts;
        var dns = Positive(t.Dns, TimeSpan.FromSeconds(5), "Dns", errors);
        var connect = Positive(t.Connect, TimeSpan.FromSeconds(10), "Connect", errors);
        var idle = Positive(t.TunnelIdle, TimeSpan.FromMinutes(5), "TunnelIdle", errors);
        var headers = Positive(t.RequestHeaders, TimeSpan.FromSeconds(30), "RequestHeaders", errors);
        var upstream = Positive(t.UpstreamResponse, TimeSpan.FromSeconds(60), "UpstreamResponse", errors);
        // As long as UpstreamResponse, which was the only limit on a stalled body before this one: a slow uplink keeps
        // the time it had, and a client that stops mid-body still frees its connection and the origin's within a minute.
        var body = Positive(t.RequestBody, TimeSpan.FromSeconds(60), "RequestBody", errors);
        var hello = Positive(t.ClientHello, TimeSpan.FromSeconds(10), "ClientHello", errors);
        var drain = Positive(t.Drain, TimeSpan.FromSeconds(30), "Drain", errors);

        var maxHead = options.Limits.MaxRequestHeadBytes ?? 64 * 1024;
        if (maxHead is < 1024 or > 1024 * 1024)
        {
            errors.Add(new ConfigError($"{root}:Limits:MaxRequestHeadBytes", $"{maxHead} is out of range: use a size between 1024 and 1048576 bytes."));
        }

        var maxConnections = options.Limits.MaxConnections ?? 10_000;
        if (maxConnections < 1)
        {
            errors.Add(new ConfigError($"{root}:Limits:MaxConnections", $"{maxConnections} must be at least 1."));
        }

        if (options.SocketThreads is < 1 or > MaxSocketThreads)
        {
            errors.Add(new ConfigError($"{root}:SocketThreads", $"{options.SocketThreads} is out of range: use 1 to {MaxSocketThreads} threads, or leave it out for one per processor."));
        }

        var splice = SpliceMode.Auto;
        if (options.SpliceTunnels is { } spliceText && !SpliceModes.TryParse(spliceText, out splice))
        {
            errors.Add(new ConfigError($"{root}:SpliceTunnels",
                $"'{spliceText}' is not a valid value; use 'Auto' (splice for clients on other hosts), 'On' (or 'true') or 'Off' (or 'false')."));
        }

        var limits = options.Limits;
        if (limits.MaxTunnelsPerClient is < 1)
        {
            errors.Add(new ConfigError($"{root}:Limits:MaxTunnelsPerClient", $"{limits.MaxTunnelsPerClient} must be at least 1; leave it out for no limit."));
        }

        RequestRate? rate = null;
        if (limits.RequestsPerSecondPerClient is { } perSecond)
        {
            if (!double.IsFinite(perSecond) || perSecond is <= 0 or > 1_000_000)
            {
                errors.Add(new ConfigError($"{root}:Limits:RequestsPerSecondPerClient", $"{perSecond.ToString(CultureInfo.InvariantCulture)} is out of range: use a rate above 0 and at most 1000000, such as 50 or 0.5; leave it out for no limit."));
            }
            else if (limits.RequestBurstPerClient is < 1)
            {
                errors.Add(new ConfigError($"{root}:Limits:RequestBurstPerClient", $"{limits.RequestBurstPerClient} must be at least 1."));
            }
            else
            {
                rate = new RequestRate(perSecond, limits.RequestBurstPerClient ?? (int)Math.Max(1, Math.Ceiling(perSecond)));
            }
        }
        else if (limits.RequestBurstPerClient is not null)
        {
            errors.Add(new ConfigError($"{root}:Limits:RequestBurstPerClient", "a burst needs a rate: set Limits:RequestsPerSecondPerClient too, or remove the burst."));
        }

        var hosts = new Dictionary<string, IPAddress[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, addresses) in options.Dns.Hosts)
        {
            var path = $"{root}:Dns:Hosts:{name}";
            if (HostLiteral.Classify(name, out _) != HostKind.Name)
            {
                errors.Add(new ConfigError(path, $"'{name}' is not a host name. Static entries map a DNS name to addresses."));
                continue;
            }

            var parsed = new List<IPAddress>();
            for (var i = 0; i < addresses.Count; i++)
            {
                if (IPAddress.TryParse(addresses[i], out var address) && string.Equals(address.ToString(), addresses[i], StringComparison.OrdinalIgnoreCase))
                {
                    parsed.Add(address);
                }
                else
                {
                    errors.Add(new ConfigError($"{path}:{i}", $"'{addresses[i]}' is not an IP address in standard notation, such as 192.0.2.10 or 2001:db8::10."));
                }
            }

            if (parsed.Count == 0 && addresses.Count == 0)
            {
                errors.Add(new ConfigError(path, "a static host entry needs at least one address."));
            }

            hosts[EgressTarget.TryCanonicalName(name, out var canonical) ? canonical : name.TrimEnd('.')] = [.. parsed];
        }

        var dnsCacheTtl = options.Dns.CacheTtl ?? DefaultDnsCacheTtl;
        if (dnsCacheTtl < TimeSpan.Zero || dnsCacheTtl > MaxDnsCacheTtl)
        {
            errors.Add(new ConfigError($"{root}:Dns:CacheTtl",
                $"'{dnsCacheTtl.ToString("c", CultureInfo.InvariantCulture)}' is out of range: use \"00:00:00\" (no cache) to \"01:00:00\", for example \"00:00:30\"."));
        }

        if (errors.Count > before || policy is null)
        {
            return false;
        }

        var own = ownAddresses ?? DiscoverOwnAddresses(listen);
        settings = new RuntimeSettings
        {
            Listen = listen,
            AdminListen = admin,
            Policy = policy,
            PolicySource = policySource,
            Guard = new DestinationGuard(policy.DenyPrivateDestinations, policy.AllowedPrivateDestinations, own),
            Credentials = credentials,
            UsersFile = credentials is null ? null : Path.GetFullPath(options.Authentication.UsersFile!),
            Realm = string.IsNullOrWhiteSpace(options.Authentication.Realm) ? "egress-proxy" : options.Authentication.Realm,
            AddVia = options.Headers.AddVia ?? false,
            AddXForwardedFor = options.Headers.AddXForwardedFor ?? false,
            DnsTimeout = dns,
            DnsCacheTtl = dnsCacheTtl,
            ConnectTimeout = connect,
            TunnelIdleTimeout = idle,
            RequestHeadersTimeout = headers,
            UpstreamResponseTimeout = upstream,
            RequestBodyTimeout = body,
            ClientHelloTimeout = hello,
            DrainTimeout = drain,
            InlineSocketCompletions = options.InlineSocketCompletions ?? true,
            SocketThreads = options.SocketThreads,
            SpliceTunnels = splice,
            StaticHosts = hosts.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            AccessLogFormat = format,
            AccessLogPath = logPath,
            MaxRequestHeadBytes = maxHead,
            MaxConnections = maxConnections,
            MaxTunnelsPerClient = limits.MaxTunnelsPerClient,
            RequestRatePerClient = rate,
            Source = source,
        };
        return true;
    }

    /// <summary>Names the settings that only take effect on restart and differ between two configurations.</summary>
    public IEnumerable<string> RestartOnlyDifferences(RuntimeSettings other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!Listen.SequenceEqual(other.Listen))
        {
            yield return "Listen";
        }

        if (!Equals(AdminListen, other.AdminListen))
        {
            yield return "AdminListen";
        }

        if (AccessLogFormat != other.AccessLogFormat || AccessLogPath != other.AccessLogPath)
        {
            yield return "AccessLog";
        }

        if (MaxConnections != other.MaxConnections || MaxRequestHeadBytes != other.MaxRequestHeadBytes)
        {
            yield return "Limits";
        }

        if (DrainTimeout != other.DrainTimeout || RequestHeadersTimeout != other.RequestHeadersTimeout)
        {
            yield return "Timeouts:Drain/RequestHeaders";
        }

        if (InlineSocketCompletions != other.InlineSocketCompletions)
        {
            yield return "InlineSocketCompletions";
        }

        if (SocketThreads != other.SocketThreads)
        {
            yield return "SocketThreads";
        }

        if (PolicySource != other.PolicySource)
        {
            yield return "PolicySource";
        }
    }

    /// <summary>The default of <c>Dns.CacheTtl</c>: 30 seconds, as the JVM keeps a lookup.</summary>
    public static readonly TimeSpan DefaultDnsCacheTtl = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan MaxDnsCacheTtl = TimeSpan.FromHours(1);

    private static TimeSpan Positive(TimeSpan? value, TimeSpan fallback, string name, List<ConfigError> errors)
    {
        if (value is null)
        {
            return fallback;
        }

        if (value.Value <= TimeSpan.Zero)
        {
            errors.Add(new ConfigError($"{ProxyOptions.SectionName}:Timeouts:{name}", $"'{value.Value.ToString("c", CultureInfo.InvariantCulture)}' must be longer than zero, for example \"{fallback.ToString("c", CultureInfo.InvariantCulture)}\"."));
            return fallback;
        }

        if (value.Value > MaxTimeout)
        {
            errors.Add(new ConfigError($"{ProxyOptions.SectionName}:Timeouts:{name}", $"'{value.Value.ToString("c", CultureInfo.InvariantCulture)}' is too long: a timeout can be at most \"{MaxTimeout.ToString("c", CultureInfo.InvariantCulture)}\" (30 days)."));
            return fallback;
        }

        return value.Value;
    }

    private static bool TryParseEndPoint(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? endPoint)
    {
        // IPEndPoint.TryParse accepts a bare address (port 0): an endpoint here must name its port.
        endPoint = null;
        var colon = text.LastIndexOf(':');
        return colon > 0 && colon < text.Length - 1 && (text[0] != '[' || text[colon - 1] == ']')
            && (text.Count(c => c == ':') == 1 || text[0] == '[')
            && IPEndPoint.TryParse(text, out endPoint);
    }

    private static bool Overlaps(IPAddress a, IPAddress b) =>
        a.Equals(b) || a.Equals(IPAddress.Any) || b.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any) || b.Equals(IPAddress.IPv6Any);

    /// <summary>The addresses this host answers on, which a request must never be able to reach through the proxy.</summary>
    internal static IReadOnlyCollection<IPAddress> DiscoverOwnAddresses(IReadOnlyList<IPEndPoint> listen)
    {
        var own = new HashSet<IPAddress>();
        foreach (var endPoint in listen)
        {
            if (!endPoint.Address.Equals(IPAddress.Any) && !endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                own.Add(endPoint.Address);
            }
        }

        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    // Rebuilt from bytes to drop IPv6 scope ids, which the guard ignores.
                    own.Add(new IPAddress(unicast.Address.GetAddressBytes()));
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Without interface information the listen addresses still protect the proxy's own ports;
            // loopback and private ranges are covered by the address classifier regardless.
        }

        return own;
    }
}
