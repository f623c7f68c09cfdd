using System.Collections.Concurrent;
using System.Net;

namespace EgressLab.ProxyInstance.Limits;

/// <summary>
/// The proxy's admission counters: connections open in total, tunnels open per client address, and a token
/// bucket of requests per client address. Each check is one atomic step, so concurrent callers can never
/// overshoot a limit. The limits themselves come from the caller on every call, so a reload applies at once.
/// </summary>
internal sealed class ClientLimits(TimeProvider timeProvider)
{
    // Buckets of clients that have gone quiet are dropped once there are this many.
    private const int SweepThreshold = 4096;

    private readonly ConcurrentDictionary<IPAddress, int> _tunnels = new();
    private readonly ConcurrentDictionary<IPAddress, TokenBucket> _buckets = new();
    private int _connections;
    private int _takesSinceSweep;

    /// <summary>Client connections open now.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Counts a new connection and says whether it is within <paramref name="max"/>; call <see cref="CloseConnection"/> either way.</summary>
    public bool OpenConnection(int max) => Interlocked.Increment(ref _connections) <= max;

    public void CloseConnection() => Interlocked.Decrement(ref _connections);

    /// <summary>Tunnels open now from <paramref name="client"/>.</summary>
    public int TunnelsOf(IPAddress client) => _tunnels.TryGetValue(client, out var count) ? count : 0;

    /// <summary>What a client past <c>Limits:MaxConnections</c> is told, on either path.</summary>
    internal static string TooManyConnectionsDetail(int max) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{max} client connections are open, the most Limits:MaxConnections allows");

    /// <summary>
    /// Opens a tunnel for <paramref name="client"/> unless it already has <paramref name="max"/> open (no limit
    /// when null). When this returns true the caller must call <see cref="CloseTunnel"/>.
    /// </summary>
    public bool TryOpenTunnel(IPAddress client, int? max)
    {
        while (true)
        {
            if (!_tunnels.TryGetValue(client, out var count))
            {
                if (max is < 1)
                {
                    return false;
                }

                if (_tunnels.TryAdd(client, 1))
                {
                    return true;
                }

                continue;
            }

            if (count >= max)
            {
                return false;
            }

            if (_tunnels.TryUpdate(client, count + 1, count))
            {
                return true;
            }
        }
    }

    public void CloseTunnel(IPAddress client)
    {
        while (_tunnels.TryGetValue(client, out var count))
        {
            // The last tunnel removes the entry, so the table holds only clients with tunnels open.
            if (count <= 1 ? _tunnels.TryRemove(KeyValuePair.Create(client, count)) : _tunnels.TryUpdate(client, count - 1, count))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Takes one request from <paramref name="client"/>'s bucket. When the bucket is empty, returns false and
    /// how long until the next request would be allowed. No rate means no limit.
    /// </summary>
    public bool TryTakeRequest(IPAddress client, RequestRate? rate, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (rate is null)
        {
            return true;
        }

        var now = timeProvider.GetTimestamp();
        var bucket = _buckets.GetOrAdd(client, static (_, state) => new TokenBucket(state.Burst, state.Now), (rate.Burst, Now: now));
        var taken = bucket.TryTake(rate, now, timeProvider.TimestampFrequency, out retryAfter);
        if (Interlocked.Increment(ref _takesSinceSweep) >= SweepThreshold)
        {
            Interlocked.Exchange(ref _takesSinceSweep, 0);
            if (_buckets.Count >= SweepThreshold)
            {
                Sweep(rate, now);
            }
        }

        return taken;
    }

    private void Sweep(RequestRate rate, long now)
    {
        foreach (var (client, bucket) in _buckets)
        {
            if (bucket.IsFullAt(rate, now, timeProvider.TimestampFrequency))
            {
                // A full bucket is the same as none: the client gets a fresh one when it returns.
                _buckets.TryRemove(KeyValuePair.Create(client, bucket));
            }
        }
    }

    private sealed class TokenBucket(int tokens, long timestamp)
    {
        private readonly Lock _gate = new();
        private double _tokens = tokens;
        private long _timestamp = timestamp;

        public bool TryTake(RequestRate rate, long now, long frequency, out TimeSpan retryAfter)
        {
            lock (_gate)
            {
                Refill(rate, now, frequency);
                if (_tokens >= 1)
                {
                    _tokens -= 1;
                    retryAfter = TimeSpan.Zero;
                    return true;
                }

                retryAfter = TimeSpan.FromSeconds((1 - _tokens) / rate.PerSecond);
                return false;
            }
        }

        public bool IsFullAt(RequestRate rate, long now, long frequency)
        {
            lock (_gate)
            {
                Refill(rate, now, frequency);
                return _tokens >= rate.Burst;
            }
        }

        private void Refill(RequestRate rate, long now, long frequency)
        {
            if (now > _timestamp)
            {
                _tokens = Math.Min(rate.Burst, _tokens + ((now - _timestamp) * rate.PerSecond / frequency));
                _timestamp = now;
            }

            // A lowered burst on reload applies at once.
            _tokens = Math.Min(_tokens, rate.Burst);
        }
    }
}
