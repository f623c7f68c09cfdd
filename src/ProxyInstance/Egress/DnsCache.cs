using System.Collections.Concurrent;
using System.Net;

namespace EgressLab.ProxyInstance.Egress;

/// <summary>
/// The answers of successful lookups, kept for <c>Dns.CacheTtl</c> (as Squid's ipcache keeps them), so that a burst of
/// new tunnels to one name costs one lookup, not one each.
/// </summary>
/// <remarks>
/// The system resolver (<c>getaddrinfo</c>) does not give the records' TTLs, so every answer is kept for the same time.
/// Only addresses are cached, never a verdict: the SSRF guard checks every address again on every dial. Failed lookups
/// are not cached. At <see cref="MaxEntries"/> names, expired entries are dropped first, and if none has expired, all.
/// </remarks>
internal sealed class DnsCache(TimeProvider timeProvider)
{
    /// <summary>The most names kept.</summary>
    public const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    /// <summary>The addresses of <paramref name="host"/> (a canonical name) when an answer younger than <paramref name="ttl"/> is kept.</summary>
    public bool TryGet(string host, TimeSpan ttl, out IPAddress[] addresses)
    {
        if (_entries.TryGetValue(host, out var entry) && timeProvider.GetElapsedTime(entry.Stored) < ttl)
        {
            addresses = entry.Addresses;
            return true;
        }

        addresses = [];
        return false;
    }

    public void Store(string host, IPAddress[] addresses, TimeSpan ttl)
    {
        if (ttl <= TimeSpan.Zero || addresses.Length == 0)
        {
            return;
        }

        if (_entries.Count >= MaxEntries && !_entries.ContainsKey(host))
        {
            foreach (var (name, entry) in _entries)
            {
                if (timeProvider.GetElapsedTime(entry.Stored) >= ttl)
                {
                    _entries.TryRemove(name, out _);
                }
            }

            if (_entries.Count >= MaxEntries)
            {
                _entries.Clear();
            }
        }

        _entries[host] = new Entry(addresses, timeProvider.GetTimestamp());
    }

    private sealed record Entry(IPAddress[] Addresses, long Stored);
}
