using System.Globalization;

namespace EgressLab.LoadTests.Bench;

/// <summary>One process's open files: its soft limit (ulimit -n; <see cref="long.MaxValue"/> when unlimited) and how many are open.</summary>
internal readonly record struct OpenFileUsage(long Limit, int Open)
{
    /// <summary>Descriptors it may still open and keep <paramref name="reserve"/> spare; never negative.</summary>
    public long Free(int reserve) => Limit == long.MaxValue ? long.MaxValue : Math.Max(0, Limit - Open - reserve);
}

/// <summary>
/// How many idle tunnels fit the open-file limits: each costs the proxy two descriptors (its client and origin
/// sockets) and this process one. Pure, so that the limit's arithmetic and its wording are tested without
/// exhausting descriptors.
/// </summary>
/// <param name="Tunnels">The tunnels to open: at most <paramref name="Requested"/>.</param>
/// <param name="LimitNote">Why fewer than requested fit, or null when all do.</param>
internal sealed record TunnelBudget(int Requested, int Tunnels, string? LimitNote)
{
    public const int ProxyPerTunnel = 2;
    public const int ClientPerTunnel = 1;

    /// <param name="sameProcess">The proxy runs in this process (a test), so both shares come out of one limit.</param>
    /// <param name="reserve">Descriptors each process keeps spare, for its listeners, logs and anything else it opens meanwhile.</param>
    public static TunnelBudget Plan(int requested, OpenFileUsage proxy, OpenFileUsage client, bool sameProcess, int reserve)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requested);
        ArgumentOutOfRangeException.ThrowIfNegative(reserve);
        if (sameProcess)
        {
            const int perTunnel = ProxyPerTunnel + ClientPerTunnel;
            var fits = proxy.Free(reserve) / perTunnel;
            return fits >= requested
                ? new TunnelBudget(requested, requested, null)
                : new TunnelBudget(requested, (int)fits, Note((int)fits, requested, "the proxy runs in this process, whose", proxy, perTunnel, reserve));
        }

        var proxyFits = proxy.Free(reserve) / ProxyPerTunnel;
        var clientFits = client.Free(reserve) / ClientPerTunnel;
        if (Math.Min(proxyFits, clientFits) >= requested)
        {
            return new TunnelBudget(requested, requested, null);
        }

        // The tighter limit is the one to name; on a tie, the proxy's, as the figure is about the proxy.
        return proxyFits <= clientFits
            ? new TunnelBudget(requested, (int)proxyFits, Note((int)proxyFits, requested, "the proxy's", proxy, ProxyPerTunnel, reserve))
            : new TunnelBudget(requested, (int)clientFits, Note((int)clientFits, requested, "this process's", client, ClientPerTunnel, reserve));
    }

    private static string Note(int fits, int requested, string whose, OpenFileUsage usage, int perTunnel, int reserve) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{fits:N0} of {requested:N0}: {whose} open-file limit is {usage.Limit:N0} (ulimit -n), {perTunnel} per tunnel, with {usage.Open:N0} already open and {reserve:N0} kept spare");
}
