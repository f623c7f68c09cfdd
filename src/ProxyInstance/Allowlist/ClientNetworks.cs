using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EgressLab.ProxyInstance.Allowlist;

/// <summary>Groups client addresses into networks for a rule's <c>Sources</c>: each address to its /N, then adjacent networks merged.</summary>
internal static class ClientNetworks
{
    /// <summary>The /<paramref name="prefix4"/> (IPv4) or /<paramref name="prefix6"/> (IPv6) network holding <paramref name="client"/>.</summary>
    public static IPNetwork Of(IPAddress client, int prefix4, int prefix6)
    {
        ArgumentNullException.ThrowIfNull(client);
        var address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        var (value, width) = ToNumber(address);
        var prefix = width == 32 ? prefix4 : prefix6;
        return ToNetwork(Mask(value, width, prefix), width, prefix);
    }

    /// <summary>
    /// The fewest networks covering exactly the union of <paramref name="networks"/>: networks inside another are
    /// dropped and two halves of one network become that network (10.0.0.0/24 and 10.0.1.0/24 are 10.0.0.0/23),
    /// repeatedly. IPv4 first, then IPv6, each in address order.
    /// </summary>
    public static List<IPNetwork> Merge(IEnumerable<IPNetwork> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        var merged = new List<IPNetwork>();
        foreach (var family in networks.GroupBy(n => n.BaseAddress.AddressFamily).OrderBy(g => g.Key == AddressFamily.InterNetwork ? 0 : 1))
        {
            var width = family.Key == AddressFamily.InterNetwork ? 32 : 128;
            var set = family.Select(n => (Value: ToNumber(n.BaseAddress).Value, Prefix: n.PrefixLength)).ToHashSet();

            // Drop networks inside a wider one in the set.
            set.RemoveWhere(n => Enumerable.Range(0, n.Prefix).Any(p => set.Contains((Mask(n.Value, width, p), p))));

            // Join sibling halves, longest prefixes first, so that joins cascade upwards.
            for (var prefix = width; prefix > 0; prefix--)
            {
                var bit = UInt128.One << (width - prefix);
                foreach (var network in set.Where(n => n.Prefix == prefix && (n.Value & bit) == 0).ToList())
                {
                    if (set.Remove((network.Value | bit, prefix)))
                    {
                        set.Remove(network);
                        set.Add((network.Value, prefix - 1));
                    }
                }
            }

            merged.AddRange(set.OrderBy(n => n.Value).ThenBy(n => n.Prefix).Select(n => ToNetwork(n.Value, width, n.Prefix)));
        }

        return merged;
    }

    private static (UInt128 Value, int Width) ToNumber(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        return length == 4
            ? (BinaryPrimitives.ReadUInt32BigEndian(bytes), 32)
            : (BinaryPrimitives.ReadUInt128BigEndian(bytes), 128);
    }

    private static UInt128 Mask(UInt128 value, int width, int prefix) =>
        prefix == 0 ? UInt128.Zero : value & ~((UInt128.One << (width - prefix)) - 1);

    private static IPNetwork ToNetwork(UInt128 value, int width, int prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (width == 32)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)value);
            return new IPNetwork(new IPAddress(bytes[..4]), prefix);
        }

        BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return new IPNetwork(new IPAddress(bytes), prefix);
    }
}
