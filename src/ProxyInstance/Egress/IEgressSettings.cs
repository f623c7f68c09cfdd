using System.Collections.Frozen;
using System.Net;

namespace EgressLab.ProxyInstance.Egress;

/// <summary>
/// The settings a dial needs, as one generation of the configuration has them. The configuration implements it; the
/// dialer depends on this and not on the configuration, so dependencies point one way.
/// </summary>
internal interface IEgressSettings
{
    /// <summary>The SSRF guard every resolved address is checked with.</summary>
    DestinationGuard Guard { get; }

    /// <summary><c>Dns.Hosts</c>: names answered without DNS, keyed by canonical name.</summary>
    FrozenDictionary<string, IPAddress[]> StaticHosts { get; }

    TimeSpan DnsTimeout { get; }

    /// <summary><c>Dns.CacheTtl</c>: how long a lookup's answer is reused; zero for never.</summary>
    TimeSpan DnsCacheTtl { get; }

    TimeSpan ConnectTimeout { get; }
}
