using System.Net;
using EgressLab.ProxyInstance.Egress;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Tests.Egress;

public class DestinationGuardTests
{
    private static readonly DestinationGuard Strict = new(true, [], []);

    [Theory]
    [InlineData("127.0.0.2")]
    [InlineData("2130706434")]
    [InlineData("0x7f000002")]
    [InlineData("0X7F.0.0.2")]
    [InlineData("0177.0.0.2")]
    [InlineData("0177.0.0.02")]
    [InlineData("0177.000.000.002")]
    [InlineData("127.2")]
    [InlineData("127.0.2")]
    [InlineData("0x7f.0.0.2")]
    [InlineData("0x7f.2")]
    [InlineData("127.0.0.2.")]
    [InlineData("::ffff:127.0.0.2")]
    [InlineData("::ffff:7f00:2")]
    [InlineData("[::ffff:127.0.0.2]")]
    [InlineData("[::ffff:7f00:2]")]
    [InlineData("::ffff:0:7f00:2")]
    [InlineData("::127.0.0.2")]
    [InlineData("64:ff9b::7f00:2")]
    [InlineData("[64:ff9b::7f00:2]")]
    [InlineData("64:ff9b:1::7f00:2")]
    [InlineData("2002:7f00:0002::1")]
    [InlineData("[2002:7f00:0002::1]")]
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fffd")]
    [InlineData("[::1]")]
    [InlineData("::1")]
    public void Check_LoopbackInAnyNotation_DeniedAsLoopback(string host)
    {
        Assert.True(HostLiteral.TryParse(host, out IPAddress? address));

        Assert.Equal(new AddressVerdict(false, AddressClass.Loopback), Strict.Check(address));
    }

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("2852039166")]
    [InlineData("0xa9fea9fe")]
    [InlineData("0251.0376.0251.0376")]
    [InlineData("0xa9.0xfe.0xa9.0xfe")]
    [InlineData("169.16689662")]
    [InlineData("[::ffff:169.254.169.254]")]
    [InlineData("[64:ff9b::a9fe:a9fe]")]
    [InlineData("[2002:a9fe:a9fe::1]")]
    [InlineData("169.254.170.2")]
    [InlineData("fd00:ec2::254")]
    [InlineData("[fd00:ec2::254]")]
    [InlineData("[FD00:0EC2:0000:0000:0000:0000:0000:0254]")]
    [InlineData("fd00:ec2::23")]
    public void Check_MetadataInAnyNotation_DeniedAsMetadata(string host)
    {
        Assert.True(HostLiteral.TryParse(host, out IPAddress? address));

        Assert.Equal(new AddressVerdict(false, AddressClass.Metadata), Strict.Check(address));
    }

    [Theory]
    [InlineData("0.0.0.0", AddressClass.Unspecified)]
    [InlineData("::", AddressClass.Unspecified)]
    [InlineData("10.0.0.1", AddressClass.Private)]
    [InlineData("172.16.0.1", AddressClass.Private)]
    [InlineData("192.168.1.1", AddressClass.Private)]
    [InlineData("fec0::1", AddressClass.Private)]
    [InlineData("169.254.1.1", AddressClass.LinkLocal)]
    [InlineData("fe80::1", AddressClass.LinkLocal)]
    [InlineData("100.64.0.1", AddressClass.CarrierGradeNat)]
    [InlineData("224.0.0.1", AddressClass.Multicast)]
    [InlineData("ff02::1", AddressClass.Multicast)]
    [InlineData("255.255.255.255", AddressClass.Broadcast)]
    [InlineData("fc00::1", AddressClass.UniqueLocal)]
    [InlineData("240.0.0.1", AddressClass.Reserved)]
    [InlineData("198.18.0.1", AddressClass.Reserved)]
    [InlineData("::ffff:10.0.0.1", AddressClass.Private)]
    public void Check_NonPublic_Denied(string address, object expected)
    {
        // The enum is internal and a public test method cannot name it, so it arrives boxed.
        AddressClass expectedValue = (AddressClass)expected;
        Assert.Equal(new AddressVerdict(false, expectedValue), Strict.Check(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("192.0.2.1")]
    [InlineData("198.51.100.7")]
    [InlineData("203.0.113.200")]
    [InlineData("2001:db8::1")]
    [InlineData("::ffff:192.0.2.1")]
    [InlineData("64:ff9b::192.0.2.1")]
    [InlineData("2606:4700::1111")]
    public void Check_Public_Allowed(string address)
    {
        Assert.Equal(new AddressVerdict(true, AddressClass.Public), Strict.Check(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("127.0.0.1", true, AddressClass.Loopback)]
    [InlineData("127.0.0.2", false, AddressClass.Loopback)]
    [InlineData("::ffff:127.0.0.1", true, AddressClass.Loopback)]
    [InlineData("::ffff:127.0.0.2", false, AddressClass.Loopback)]
    [InlineData("64:ff9b::127.0.0.1", true, AddressClass.Loopback)]
    [InlineData("10.1.2.3", true, AddressClass.Private)]
    [InlineData("10.1.255.255", true, AddressClass.Private)]
    [InlineData("10.2.0.0", false, AddressClass.Private)]
    [InlineData("10.0.255.255", false, AddressClass.Private)]
    [InlineData("::ffff:10.1.0.9", true, AddressClass.Private)]
    [InlineData("fd12:3456::1", true, AddressClass.UniqueLocal)]
    [InlineData("fd12:3457::1", false, AddressClass.UniqueLocal)]
    [InlineData("fe80::1%7", true, AddressClass.LinkLocal)]
    [InlineData("fe80::2", false, AddressClass.LinkLocal)]
    [InlineData("169.254.169.254", false, AddressClass.Metadata)]
    [InlineData("192.168.7.7", true, AddressClass.Private)]
    [InlineData("192.168.8.7", false, AddressClass.Private)]
    public void Check_AllowedPrivate_ExemptsOnlyListedNetworks(string address, bool allowed, object expected)
    {
        // The enum is internal and a public test method cannot name it, so it arrives boxed.
        AddressClass expectedValue = (AddressClass)expected;
        DestinationGuard guard = new(
            true,
            [
                IPNetwork.Parse("127.0.0.1/32"),
                IPNetwork.Parse("10.1.0.0/16"),
                IPNetwork.Parse("fd12:3456::/32"),
                IPNetwork.Parse("fe80::1/128"),
                IPNetwork.Parse("::ffff:192.168.7.0/120"),
            ],
            []);

        Assert.Equal(new AddressVerdict(allowed, expectedValue), guard.Check(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("::ffff:127.0.0.2", false)]
    [InlineData("127.0.0.2", false)]
    [InlineData("::1", true)]
    [InlineData("::2", false)]
    [InlineData("::ffff:10.9.0.1", true)]
    [InlineData("10.9.255.255", true)]
    [InlineData("10.10.0.0", false)]
    public void Check_AllowedPrivateWrittenAsMapped_CoversPlainIPv4(string address, bool allowed)
    {
        DestinationGuard guard = new(
            true,
            [IPNetwork.Parse("::ffff:127.0.0.1/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("::ffff:10.9.0.0/112")],
            []);

        Assert.Equal(allowed, guard.Check(IPAddress.Parse(address)).Allowed);
    }

    [Fact]
    public void Check_AllowedPrivateWholeSpace_AllowsEverything()
    {
        DestinationGuard guard = new(true, [IPNetwork.Parse("0.0.0.0/0"), IPNetwork.Parse("::/0")], []);

        Assert.Equal(new AddressVerdict(true, AddressClass.Metadata), guard.Check(IPAddress.Parse("169.254.169.254")));
        Assert.Equal(new AddressVerdict(true, AddressClass.Loopback), guard.Check(IPAddress.Parse("::1")));
    }

    [Theory]
    [InlineData("192.0.2.10", false, AddressClass.ProxyOwn)]
    [InlineData("::ffff:192.0.2.10", false, AddressClass.ProxyOwn)]
    [InlineData("64:ff9b::192.0.2.10", false, AddressClass.ProxyOwn)]
    [InlineData("192.0.2.11", true, AddressClass.Public)]
    [InlineData("10.0.0.5", false, AddressClass.ProxyOwn)]
    [InlineData("2001:db8::10", false, AddressClass.ProxyOwn)]
    [InlineData("2001:db8::11", true, AddressClass.Public)]
    [InlineData("fe80::10", false, AddressClass.ProxyOwn)]
    [InlineData("fe80::10%9", false, AddressClass.ProxyOwn)]
    [InlineData("198.51.100.1", true, AddressClass.ProxyOwn)]
    public void Check_OwnAddress_DeniedUnlessAllowedPrivate(string address, bool allowed, object expected)
    {
        // The enum is internal and a public test method cannot name it, so it arrives boxed.
        AddressClass expectedValue = (AddressClass)expected;
        DestinationGuard guard = new(
            true,
            [IPNetwork.Parse("198.51.100.0/24")],
            [
                IPAddress.Parse("192.0.2.10"),
                IPAddress.Parse("::ffff:10.0.0.5"),
                IPAddress.Parse("2001:db8::10"),
                IPAddress.Parse("fe80::10%2"),
                IPAddress.Parse("198.51.100.1"),
            ]);

        Assert.Equal(new AddressVerdict(allowed, expectedValue), guard.Check(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("127.0.0.1", AddressClass.Loopback)]
    [InlineData("169.254.169.254", AddressClass.Metadata)]
    [InlineData("fd00:ec2::254", AddressClass.Metadata)]
    [InlineData("10.0.0.1", AddressClass.Private)]
    [InlineData("::ffff:127.0.0.1", AddressClass.Loopback)]
    [InlineData("192.0.2.10", AddressClass.ProxyOwn)]
    [InlineData("8.8.8.8", AddressClass.Public)]
    public void Check_DenyOff_AllowsEverythingAndStillClassifies(string address, object expected)
    {
        // The enum is internal and a public test method cannot name it, so it arrives boxed.
        AddressClass expectedValue = (AddressClass)expected;
        DestinationGuard guard = new(false, [], [IPAddress.Parse("192.0.2.10")]);

        Assert.Equal(new AddressVerdict(true, expectedValue), guard.Check(IPAddress.Parse(address)));
    }

    [Fact]
    public void Check_AfterWarmUp_DoesNotAllocate()
    {
        DestinationGuard guard = new(true, [IPNetwork.Parse("10.1.0.0/16")], [IPAddress.Parse("192.0.2.10")]);
        IPAddress[] addresses =
        [
            IPAddress.Parse("192.0.2.1"),
            IPAddress.Parse("10.1.2.3"),
            IPAddress.Parse("2001:db8::1"),
            IPAddress.Parse("::ffff:127.0.0.1"),
            IPAddress.Parse("2001:0:4136:e378:8000:63bf:80ff:fffd"),
        ];
        int allowed = 0;
        foreach (IPAddress address in addresses)
        {
            allowed += guard.Check(address).Allowed ? 1 : 0;
        }

        (long allocated, int rounds) = TestHost.Allocations.Least(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                foreach (IPAddress address in addresses)
                {
                    allowed += guard.Check(address).Allowed ? 1 : 0;
                }
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(3 * (1 + (1000 * rounds)), allowed);
    }
}
