using System.Buffers.Binary;
using System.Net;

namespace EgressLab.ProxyInstance.Egress;

/// <summary>The guard's decision for one address, with the class it saw so the caller can log why.</summary>
internal readonly record struct AddressVerdict(bool Allowed, AddressClass Class);

/// <summary>
/// Refuses connections to internal destinations: loopback, private, link-local, metadata, the proxy itself and
/// the rest of the non-<see cref="AddressClass.Public"/> classes, unless the operator exempted them.
/// </summary>
/// <remarks>
/// Every comparison uses the effective address (<see cref="AddressClassifier.Effective"/>) as well as the raw one,
/// so ::ffff:127.0.0.1 is matched against IPv4 entries. Scope ids are ignored. <see cref="Check"/> does not
/// allocate.
/// </remarks>
internal sealed class DestinationGuard
{
    private readonly bool _denyPrivateDestinations;
    private readonly Prefix[] _allowedPrivate;
    private readonly HashSet<uint> _ownIPv4;
    private readonly HashSet<UInt128> _ownIPv6;

    /// <param name="denyPrivateDestinations">When false, every address is allowed and only classified; this covers the proxy's own addresses too.</param>
    /// <param name="allowedPrivate">Networks exempt from the denial, own addresses included.</param>
    /// <param name="ownAddresses">The proxy's interface addresses, refused as <see cref="AddressClass.ProxyOwn"/> to prevent forwarding loops.</param>
    public DestinationGuard(bool denyPrivateDestinations, IReadOnlyList<IPNetwork> allowedPrivate, IReadOnlyCollection<IPAddress> ownAddresses)
    {
        ArgumentNullException.ThrowIfNull(allowedPrivate);
        ArgumentNullException.ThrowIfNull(ownAddresses);

        _denyPrivateDestinations = denyPrivateDestinations;

        List<Prefix> prefixes = new(allowedPrivate.Count);
        Span<byte> bytes = stackalloc byte[16];
        foreach (IPNetwork network in allowedPrivate)
        {
            _ = network.BaseAddress.TryWriteBytes(bytes, out int written);
            if (written == 4)
            {
                prefixes.Add(Prefix.Create(isIPv4: true, BinaryPrimitives.ReadUInt32BigEndian(bytes), network.PrefixLength));
                continue;
            }

            UInt128 value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
            prefixes.Add(Prefix.Create(isIPv4: false, value, network.PrefixLength));

            // An exemption written as ::ffff:a.b.c.d/n also covers the plain IPv4 it denotes.
            if (network.PrefixLength >= 96 && value >> 32 == 0xFFFF)
            {
                prefixes.Add(Prefix.Create(isIPv4: true, (uint)value, network.PrefixLength - 96));
            }
        }

        _allowedPrivate = [.. prefixes];

        _ownIPv4 = [];
        _ownIPv6 = [];
        foreach (IPAddress own in ownAddresses)
        {
            ArgumentNullException.ThrowIfNull(own, nameof(ownAddresses));
            (bool isIPv4, UInt128 value) = EffectiveKey(own, bytes);
            if (isIPv4)
            {
                _ = _ownIPv4.Add((uint)value);
            }
            else
            {
                _ = _ownIPv6.Add(value);
            }
        }
    }

    public AddressVerdict Check(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        _ = address.TryWriteBytes(bytes, out int written);

        bool rawIsIPv4 = written == 4;
        UInt128 raw;
        AddressClass addressClass;
        if (rawIsIPv4)
        {
            uint ipv4 = BinaryPrimitives.ReadUInt32BigEndian(bytes);
            raw = ipv4;
            addressClass = AddressClassifier.ClassifyIPv4(ipv4);
        }
        else
        {
            raw = BinaryPrimitives.ReadUInt128BigEndian(bytes);
            addressClass = AddressClassifier.ClassifyIPv6(raw);
        }

        bool effectiveIsIPv4 = rawIsIPv4;
        UInt128 effective = raw;
        if (!rawIsIPv4 && AddressClassifier.TryGetEmbeddedIPv4(raw, out uint embedded))
        {
            effectiveIsIPv4 = true;
            effective = embedded;
        }

        bool own = effectiveIsIPv4 ? _ownIPv4.Contains((uint)effective) : _ownIPv6.Contains(effective);
        if (own)
        {
            addressClass = AddressClass.ProxyOwn;
        }

        if (!_denyPrivateDestinations || addressClass == AddressClass.Public)
        {
            return new AddressVerdict(true, addressClass);
        }

        bool exempt = IsAllowedPrivate(rawIsIPv4, raw)
            || (effectiveIsIPv4 != rawIsIPv4 && IsAllowedPrivate(effectiveIsIPv4, effective));
        return new AddressVerdict(exempt, addressClass);
    }

    private bool IsAllowedPrivate(bool isIPv4, UInt128 value)
    {
        foreach (Prefix prefix in _allowedPrivate)
        {
            if (prefix.Contains(isIPv4, value))
            {
                return true;
            }
        }

        return false;
    }

    private static (bool IsIPv4, UInt128 Value) EffectiveKey(IPAddress address, Span<byte> bytes)
    {
        _ = address.TryWriteBytes(bytes, out int written);
        if (written == 4)
        {
            return (true, BinaryPrimitives.ReadUInt32BigEndian(bytes));
        }

        UInt128 value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return AddressClassifier.TryGetEmbeddedIPv4(value, out uint ipv4) ? (true, ipv4) : (false, value);
    }

    /// <summary>A network as a masked integer, so matching needs no IPAddress for the effective form.</summary>
    private readonly record struct Prefix(bool IsIPv4, UInt128 Network, UInt128 Mask)
    {
        public static Prefix Create(bool isIPv4, UInt128 value, int length)
        {
            int width = isIPv4 ? 32 : 128;
            UInt128 all = isIPv4 ? uint.MaxValue : UInt128.MaxValue;

            // Shifting by the full width is masked to a shift by zero, so /0 is spelled out.
            UInt128 mask = length == 0 ? UInt128.Zero : all & (all << (width - length));
            return new Prefix(isIPv4, value & mask, mask);
        }

        public bool Contains(bool isIPv4, UInt128 value) => isIPv4 == IsIPv4 && (value & Mask) == Network;
    }
}
