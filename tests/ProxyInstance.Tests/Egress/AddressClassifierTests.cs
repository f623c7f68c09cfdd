using System.Net;
using EgressLab.ProxyInstance.Egress;

namespace EgressLab.ProxyInstance.Tests.Egress;

public class AddressClassifierTests
{
    [Theory]
    // 0.0.0.0/8
    [InlineData("0.0.0.0", AddressClass.Unspecified)]
    [InlineData("0.0.0.1", AddressClass.Reserved)]
    [InlineData("0.255.255.255", AddressClass.Reserved)]
    [InlineData("1.0.0.0", AddressClass.Public)]
    // 10/8
    [InlineData("9.255.255.255", AddressClass.Public)]
    [InlineData("10.0.0.0", AddressClass.Private)]
    [InlineData("10.255.255.255", AddressClass.Private)]
    [InlineData("11.0.0.0", AddressClass.Public)]
    // 100.64/10
    [InlineData("100.63.255.255", AddressClass.Public)]
    [InlineData("100.64.0.0", AddressClass.CarrierGradeNat)]
    [InlineData("100.100.100.200", AddressClass.CarrierGradeNat)]
    [InlineData("100.127.255.255", AddressClass.CarrierGradeNat)]
    [InlineData("100.128.0.0", AddressClass.Public)]
    // 127/8
    [InlineData("126.255.255.255", AddressClass.Public)]
    [InlineData("127.0.0.0", AddressClass.Loopback)]
    [InlineData("127.0.0.1", AddressClass.Loopback)]
    [InlineData("127.255.255.255", AddressClass.Loopback)]
    [InlineData("128.0.0.0", AddressClass.Public)]
    // 169.254/16 and metadata
    [InlineData("169.253.255.255", AddressClass.Public)]
    [InlineData("169.254.0.0", AddressClass.LinkLocal)]
    [InlineData("169.254.169.253", AddressClass.LinkLocal)]
    [InlineData("169.254.169.254", AddressClass.Metadata)]
    [InlineData("169.254.169.255", AddressClass.LinkLocal)]
    [InlineData("169.254.170.1", AddressClass.LinkLocal)]
    [InlineData("169.254.170.2", AddressClass.Metadata)]
    [InlineData("169.254.170.3", AddressClass.LinkLocal)]
    [InlineData("169.254.255.255", AddressClass.LinkLocal)]
    [InlineData("169.255.0.0", AddressClass.Public)]
    // 172.16/12
    [InlineData("172.15.255.255", AddressClass.Public)]
    [InlineData("172.16.0.0", AddressClass.Private)]
    [InlineData("172.31.255.255", AddressClass.Private)]
    [InlineData("172.32.0.0", AddressClass.Public)]
    // 192.0.0.0/24 and 192.0.2.0/24 documentation
    [InlineData("191.255.255.255", AddressClass.Public)]
    [InlineData("192.0.0.0", AddressClass.Reserved)]
    [InlineData("192.0.0.255", AddressClass.Reserved)]
    [InlineData("192.0.1.0", AddressClass.Public)]
    [InlineData("192.0.2.0", AddressClass.Public)]
    [InlineData("192.0.2.1", AddressClass.Public)]
    [InlineData("192.0.2.255", AddressClass.Public)]
    // 192.168/16
    [InlineData("192.167.255.255", AddressClass.Public)]
    [InlineData("192.168.0.0", AddressClass.Private)]
    [InlineData("192.168.255.255", AddressClass.Private)]
    [InlineData("192.169.0.0", AddressClass.Public)]
    // 198.18/15 and 198.51.100/24 documentation
    [InlineData("198.17.255.255", AddressClass.Public)]
    [InlineData("198.18.0.0", AddressClass.Reserved)]
    [InlineData("198.19.255.255", AddressClass.Reserved)]
    [InlineData("198.20.0.0", AddressClass.Public)]
    [InlineData("198.51.100.0", AddressClass.Public)]
    [InlineData("198.51.100.255", AddressClass.Public)]
    [InlineData("203.0.113.0", AddressClass.Public)]
    [InlineData("203.0.113.255", AddressClass.Public)]
    [InlineData("8.8.8.8", AddressClass.Public)]
    // 224/4, 240/4, broadcast
    [InlineData("223.255.255.255", AddressClass.Public)]
    [InlineData("224.0.0.0", AddressClass.Multicast)]
    [InlineData("239.255.255.255", AddressClass.Multicast)]
    [InlineData("240.0.0.0", AddressClass.Reserved)]
    [InlineData("255.255.255.254", AddressClass.Reserved)]
    [InlineData("255.255.255.255", AddressClass.Broadcast)]
    // IPv6 specials
    [InlineData("::", AddressClass.Unspecified)]
    [InlineData("::1", AddressClass.Loopback)]
    [InlineData("::2", AddressClass.Reserved)]
    [InlineData("100::", AddressClass.Reserved)]
    [InlineData("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass.Reserved)]
    [InlineData("2000::", AddressClass.Public)]
    [InlineData("2606:4700::1111", AddressClass.Public)]
    [InlineData("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass.Public)]
    [InlineData("4000::", AddressClass.Reserved)]
    [InlineData("2001:db8::", AddressClass.Public)]
    [InlineData("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass.Public)]
    [InlineData("2001:1::", AddressClass.Public)]
    [InlineData("2001:2::", AddressClass.Reserved)]
    [InlineData("2001:2:0:ffff:ffff:ffff:ffff:ffff", AddressClass.Reserved)]
    [InlineData("2001:2:1::", AddressClass.Public)]
    // fc00::/7 and metadata
    [InlineData("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass.Reserved)]
    [InlineData("fc00::", AddressClass.UniqueLocal)]
    [InlineData("fd00:ec2::253", AddressClass.UniqueLocal)]
    [InlineData("fd00:ec2::254", AddressClass.Metadata)]
    [InlineData("fd00:ec2::23", AddressClass.Metadata)]
    [InlineData("fd00:ec2::255", AddressClass.UniqueLocal)]
    [InlineData("fd00:ec3::254", AddressClass.UniqueLocal)]
    [InlineData("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass.UniqueLocal)]
    [InlineData("fe00::", AddressClass.Reserved)]
    // fe80::/10, fec0::/10, ff00::/8
    [InlineData("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass.Reserved)]
    [InlineData("fe80::", AddressClass.LinkLocal)]
    [InlineData("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass.LinkLocal)]
    [InlineData("fec0::", AddressClass.Private)]
    [InlineData("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass.Private)]
    [InlineData("ff00::", AddressClass.Multicast)]
    [InlineData("ff02::1", AddressClass.Multicast)]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass.Multicast)]
    // IPv4 embedded in IPv6: the IPv4 decides
    [InlineData("::ffff:127.0.0.2", AddressClass.Loopback)]
    [InlineData("::ffff:10.0.0.1", AddressClass.Private)]
    [InlineData("::ffff:169.254.169.254", AddressClass.Metadata)]
    [InlineData("::ffff:0.0.0.0", AddressClass.Unspecified)]
    [InlineData("::ffff:8.8.8.8", AddressClass.Public)]
    [InlineData("::ffff:192.0.2.1", AddressClass.Public)]
    [InlineData("::ffff:0:127.0.0.1", AddressClass.Loopback)]
    [InlineData("::ffff:0:8.8.8.8", AddressClass.Reserved)]
    [InlineData("::127.0.0.2", AddressClass.Loopback)]
    [InlineData("::169.254.169.254", AddressClass.Metadata)]
    [InlineData("::8.8.8.8", AddressClass.Reserved)]
    [InlineData("64:ff9b::7f00:2", AddressClass.Loopback)]
    [InlineData("64:ff9b::a9fe:a9fe", AddressClass.Metadata)]
    [InlineData("64:ff9b::8.8.8.8", AddressClass.Public)]
    [InlineData("64:ff9b:0:0:0:1::", AddressClass.Reserved)]   // outside the /96, inside ::/8
    [InlineData("64:ff9b:1::127.0.0.1", AddressClass.Loopback)]
    [InlineData("64:ff9b:1:ffff::10.1.2.3", AddressClass.Private)]
    [InlineData("64:ff9b:1::8.8.8.8", AddressClass.Public)]
    [InlineData("64:ff9b:2::", AddressClass.Reserved)]
    [InlineData("2002:7f00:0002::1", AddressClass.Loopback)]
    [InlineData("2002:a9fe:a9fe::", AddressClass.Metadata)]
    [InlineData("2002:c0a8:0101:1::1", AddressClass.Private)]
    [InlineData("2002:0808:0808::1", AddressClass.Public)]
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fffd", AddressClass.Loopback)]     // client 127.0.0.2
    [InlineData("2001:0:4136:e378:8000:63bf:5601:5601", AddressClass.Metadata)]     // client 169.254.169.254
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", AddressClass.Public)]       // client 192.0.2.45
    public void Classify_Address_ReturnsClass(string address, object expected)
    {
        // The enum is internal and a public test method cannot name it, so it arrives boxed.
        AddressClass expectedValue = (AddressClass)expected;
        Assert.Equal(expectedValue, AddressClassifier.Classify(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("127.0.0.2", "127.0.0.2")]
    [InlineData("::1", "::1")]
    [InlineData("::", "::")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("fd00:ec2::254", "fd00:ec2::254")]
    [InlineData("::ffff:127.0.0.2", "127.0.0.2")]
    [InlineData("::ffff:7f00:2", "127.0.0.2")]
    [InlineData("::ffff:0:7f00:2", "127.0.0.2")]
    [InlineData("::7f00:2", "127.0.0.2")]
    [InlineData("::0.0.0.2", "0.0.0.2")]
    [InlineData("64:ff9b::7f00:2", "127.0.0.2")]
    [InlineData("64:ff9b:1:abcd::7f00:2", "127.0.0.2")]
    [InlineData("2002:7f00:0002::1", "127.0.0.2")]
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fffd", "127.0.0.2")]
    public void Effective_Address_ReturnsAddressReached(string address, string expected)
    {
        Assert.Equal(IPAddress.Parse(expected), AddressClassifier.Effective(IPAddress.Parse(address)));
    }

    [Fact]
    public void Effective_PlainAddress_ReturnsSameInstance()
    {
        IPAddress address = IPAddress.Parse("2001:db8::1");

        Assert.Same(address, AddressClassifier.Effective(address));
    }
}
