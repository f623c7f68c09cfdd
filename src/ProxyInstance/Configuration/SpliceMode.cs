using System.Net;

namespace EgressLab.ProxyInstance.Configuration;

/// <summary>The <c>SpliceTunnels</c> setting: when a tunnel moves its bulk downloads to the client with splice(2).</summary>
internal enum SpliceMode
{
    /// <summary>Splice unless the client is on the proxy's own host (loopback, or the proxy's own address).</summary>
    Auto,

    /// <summary>Splice for every client.</summary>
    On,

    /// <summary>Copy every byte through the proxy.</summary>
    Off,
}

internal static class SpliceModes
{
    /// <summary>Reads <c>Auto</c>, <c>On</c> (or <c>true</c>) or <c>Off</c> (or <c>false</c>), in any case.</summary>
    public static bool TryParse(string text, out SpliceMode mode)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Equals("Auto", StringComparison.OrdinalIgnoreCase))
        {
            mode = SpliceMode.Auto;
            return true;
        }

        if (text.Equals("On", StringComparison.OrdinalIgnoreCase) || text.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            mode = SpliceMode.On;
            return true;
        }

        mode = SpliceMode.Off;
        return text.Equals("Off", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Whether a tunnel whose client is at <paramref name="client"/>, accepted on <paramref name="local"/>, splices.
    /// Under <see cref="SpliceMode.Auto"/> a client on the proxy's own host does not: the kernel hands such a client the
    /// very buffers the proxy spliced, page by page, and the client then spends more to read them than the proxy saved
    /// (docs/configuration.md, <c>SpliceTunnels</c>).
    /// </summary>
    public static bool AppliesTo(this SpliceMode mode, EndPoint? client, EndPoint? local) => mode switch
    {
        SpliceMode.On => true,
        SpliceMode.Off => false,
        _ => !IsSameHost(client, local),
    };

    private static bool IsSameHost(EndPoint? client, EndPoint? local)
    {
        if (client is not IPEndPoint { Address: var address })
        {
            // Not an IP client (a Unix socket): on this host by definition.
            return true;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        // A client that connects to one of the host's own addresses from that address goes over loopback too.
        var own = (local as IPEndPoint)?.Address;
        if (own is { IsIPv4MappedToIPv6: true })
        {
            own = own.MapToIPv4();
        }

        return address.Equals(own);
    }
}
