using System.Buffers.Binary;
using System.Net;

namespace EgressLab.ProxyInstance.Egress;

/// <summary>
/// Classifies an address by where a connection to it actually lands, so that an IPv4 target wrapped in an
/// IPv6 form (mapped, NAT64, 6to4, Teredo, ...) is judged as the IPv4 address it reaches.
/// </summary>
/// <remarks>
/// The documentation ranges 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737) and 2001:db8::/32
/// (RFC 3849) are deliberately <see cref="AddressClass.Public"/>: the product's network lab uses them as its
/// "internet", so refusing them would refuse everything the lab is for.
/// </remarks>
internal static class AddressClassifier
{
    // IPv4 constants, host order.
    private const uint MetadataIPv4 = 0xA9FEA9FE;    // 169.254.169.254: AWS, GCP, Azure, OCI instance metadata
    private const uint EcsMetadataIPv4 = 0xA9FEAA02; // 169.254.170.2: ECS task metadata and credentials
    private const uint LimitedBroadcast = 0xFFFFFFFF;

    // IPv6 prefixes, as (address, prefix length) pairs.
    private static readonly UInt128 MappedPrefix = new(0, 0x0000_FFFF_0000_0000);          // ::ffff:0:0/96, RFC 4291 §2.5.5.2
    private static readonly UInt128 TranslatedPrefix = new(0, 0xFFFF_0000_0000_0000);      // ::ffff:0:0:0/96, RFC 2765 §2.1
    private static readonly UInt128 Nat64Prefix = new(0x0064_FF9B_0000_0000, 0);           // 64:ff9b::/96, RFC 6052 §2.1
    private static readonly UInt128 Nat64LocalPrefix = new(0x0064_FF9B_0001_0000, 0);      // 64:ff9b:1::/48, RFC 8215
    private static readonly UInt128 SixToFourPrefix = new(0x2002_0000_0000_0000, 0);       // 2002::/16, RFC 3056 §2
    private static readonly UInt128 TeredoPrefix = new(0x2001_0000_0000_0000, 0);          // 2001::/32, RFC 4380 §4
    private static readonly UInt128 BenchmarkingPrefix = new(0x2001_0002_0000_0000, 0);    // 2001:2::/48, RFC 5180
    private static readonly UInt128 GlobalUnicastPrefix = new(0x2000_0000_0000_0000, 0);   // 2000::/3
    private static readonly UInt128 UniqueLocalPrefix = new(0xFC00_0000_0000_0000, 0);     // fc00::/7, RFC 4193
    private static readonly UInt128 LinkLocalPrefix = new(0xFE80_0000_0000_0000, 0);       // fe80::/10
    private static readonly UInt128 SiteLocalPrefix = new(0xFEC0_0000_0000_0000, 0);       // fec0::/10, RFC 3879
    private static readonly UInt128 MulticastPrefix = new(0xFF00_0000_0000_0000, 0);       // ff00::/8
    private static readonly UInt128 MetadataIPv6 = new(0xFD00_0EC2_0000_0000, 0x254);      // fd00:ec2::254, EC2 IMDS on Nitro
    private static readonly UInt128 DnsMetadataIPv6 = new(0xFD00_0EC2_0000_0000, 0x23);    // fd00:ec2::23, EC2 Route 53 resolver

    public static AddressClass Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        _ = address.TryWriteBytes(bytes, out int written);
        return written == 4
            ? ClassifyIPv4(BinaryPrimitives.ReadUInt32BigEndian(bytes))
            : ClassifyIPv6(BinaryPrimitives.ReadUInt128BigEndian(bytes));
    }

    /// <summary>
    /// The IPv4 address embedded in a mapped, IPv4-compatible, IPv4-translated, NAT64, 6to4 or Teredo address;
    /// otherwise <paramref name="address"/> itself.
    /// </summary>
    public static IPAddress Effective(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        _ = address.TryWriteBytes(bytes, out int written);
        if (written == 4 || !TryGetEmbeddedIPv4(BinaryPrimitives.ReadUInt128BigEndian(bytes), out uint ipv4, out _))
        {
            return address;
        }

        BinaryPrimitives.WriteUInt32BigEndian(bytes, ipv4);
        return new IPAddress(bytes[..4]);
    }

    internal static AddressClass ClassifyIPv4(uint address)
    {
        // Ordered so that the more specific ranges are tested before the ranges that contain them.
        if (address >> 24 == 0)
        {
            // RFC 1122 §3.2.1.3: 0.0.0.0 is "this host"; the rest of 0/8 is "this network".
            return address == 0 ? AddressClass.Unspecified : AddressClass.Reserved;
        }

        if (address >> 24 == 127)
        {
            return AddressClass.Loopback;
        }

        if (address >> 24 == 10 || address >> 20 == 0xAC1 || address >> 16 == 0xC0A8)
        {
            return AddressClass.Private; // RFC 1918 §3: 10/8, 172.16/12, 192.168/16
        }

        if (address >> 16 == 0xA9FE)
        {
            return address is MetadataIPv4 or EcsMetadataIPv4 ? AddressClass.Metadata : AddressClass.LinkLocal; // RFC 3927
        }

        if (address >> 22 == 0x191)
        {
            return AddressClass.CarrierGradeNat; // 100.64.0.0/10, RFC 6598
        }

        if (address >> 28 == 0xE)
        {
            return AddressClass.Multicast; // 224.0.0.0/4, RFC 5771
        }

        if (address == LimitedBroadcast)
        {
            return AddressClass.Broadcast; // RFC 919 §7
        }

        if (address >> 28 == 0xF       // 240.0.0.0/4, RFC 1112 §4
            || address >> 8 == 0xC00000 // 192.0.0.0/24, RFC 6890 §2.2.2
            || address >> 17 == 0x6309) // 198.18.0.0/15, RFC 2544 benchmarking
        {
            return AddressClass.Reserved;
        }

        // 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 land here on purpose: see the type's remarks.
        return AddressClass.Public;
    }

    internal static AddressClass ClassifyIPv6(UInt128 address)
    {
        if (address == UInt128.Zero)
        {
            return AddressClass.Unspecified;
        }

        if (address == UInt128.One)
        {
            return AddressClass.Loopback;
        }

        if (TryGetEmbeddedIPv4(address, out uint ipv4, out EmbeddedForm form))
        {
            AddressClass embedded = ClassifyIPv4(ipv4);
            if (form == EmbeddedForm.Mapped || embedded != AddressClass.Public)
            {
                return embedded;
            }

            // A public IPv4 behind a translator or tunnel is as public as the IPv4 itself. The IPv4-compatible
            // (RFC 4291 §2.5.5.1) and IPv4-translated (RFC 2765, dropped by RFC 6145) forms are deprecated:
            // nothing legitimate dials them, so they are refused rather than guessed at.
            return form == EmbeddedForm.Deprecated ? AddressClass.Reserved : AddressClass.Public;
        }

        if (InPrefix(address, LinkLocalPrefix, 10))
        {
            return AddressClass.LinkLocal;
        }

        if (InPrefix(address, SiteLocalPrefix, 10))
        {
            return AddressClass.Private;
        }

        if (InPrefix(address, MulticastPrefix, 8))
        {
            return AddressClass.Multicast;
        }

        if (InPrefix(address, UniqueLocalPrefix, 7))
        {
            return address == MetadataIPv6 || address == DnsMetadataIPv6 ? AddressClass.Metadata : AddressClass.UniqueLocal;
        }

        if (InPrefix(address, BenchmarkingPrefix, 48))
        {
            return AddressClass.Reserved;
        }

        // Only 2000::/3 is allocated as global unicast; everything else left over (100::/64 discard, the rest of
        // ::/8, 4000::/2, ...) is reserved by the IETF. 2001:db8::/32 is Public on purpose: see the type's remarks.
        return InPrefix(address, GlobalUnicastPrefix, 3) ? AddressClass.Public : AddressClass.Reserved;
    }

    /// <summary>Finds the IPv4 address an IPv6 address carries, in every form a stack or a translator will act on.</summary>
    internal static bool TryGetEmbeddedIPv4(UInt128 address, out uint ipv4) => TryGetEmbeddedIPv4(address, out ipv4, out _);

    private static bool TryGetEmbeddedIPv4(UInt128 address, out uint ipv4, out EmbeddedForm form)
    {
        ipv4 = (uint)address;
        if (InPrefix(address, MappedPrefix, 96))
        {
            form = EmbeddedForm.Mapped;
            return true;
        }

        // The v4 sits in the last 32 bits for the /96 NAT64 prefixes (RFC 6052 §2.2). An operator may carve a
        // shorter prefix out of 64:ff9b:1::/48, which puts the v4 elsewhere; we decode only the /96 layout.
        if (InPrefix(address, Nat64Prefix, 96) || InPrefix(address, Nat64LocalPrefix, 48))
        {
            form = EmbeddedForm.Translator;
            return true;
        }

        // ::a.b.c.d, excluding :: and ::1 which the caller has already handled as themselves.
        if ((InPrefix(address, UInt128.Zero, 96) && ipv4 > 1) || InPrefix(address, TranslatedPrefix, 96))
        {
            form = EmbeddedForm.Deprecated;
            return true;
        }

        if (InPrefix(address, SixToFourPrefix, 16))
        {
            ipv4 = (uint)(address >> 80); // RFC 3056 §2: 2002:V4ADDR::/48
            form = EmbeddedForm.Translator;
            return true;
        }

        if (InPrefix(address, TeredoPrefix, 32))
        {
            ipv4 = ~(uint)address; // RFC 4380 §4: the client's address, obfuscated by inverting every bit
            form = EmbeddedForm.Translator;
            return true;
        }

        form = default;
        return false;
    }

    private static bool InPrefix(UInt128 address, UInt128 prefix, int length) =>
        address >> (128 - length) == prefix >> (128 - length);

    private enum EmbeddedForm
    {
        Mapped,
        Translator,
        Deprecated,
    }
}
