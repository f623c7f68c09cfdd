using System.Net;
using EgressLab.ProxyInstance.Policy;

namespace EgressLab.ProxyInstance.Tests.Policy;

public sealed class CidrNotationTests
{
    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("192.168.1.7", "192.168.1.7/32")]
    [InlineData("192.168.1.7/32", "192.168.1.7/32")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    [InlineData("2001:DB8::/32", "2001:db8::/32")]
    [InlineData("2001:db8::1", "2001:db8::1/128")]
    [InlineData("::/0", "::/0")]
    [InlineData("::ffff:10.0.0.0/104", "10.0.0.0/8")]
    [InlineData("::ffff:192.0.2.1", "192.0.2.1/32")]
    public void TryParse_ValidCidr_Parses(string text, string expected)
    {
        Assert.True(CidrNotation.TryParse(text, out var network, out var error), error);

        Assert.Equal(expected, network.ToString());
    }

    [Theory]
    [InlineData(null, "must not be empty")]
    [InlineData("", "must not be empty")]
    [InlineData("10.10.2.1/24", "host bits set below the /24 prefix; write the network as '10.10.2.0/24', or '10.10.2.1/32' for the single address")]
    [InlineData("2001:db8::1/32", "write the network as '2001:db8::/32', or '2001:db8::1/128'")]
    [InlineData("10/8", "not an IPv4 address in dotted-decimal form")]
    [InlineData("10.0/16", "not an IPv4 address in dotted-decimal form")]
    [InlineData("010.0.0.0/8", "without leading zeros")]
    [InlineData("256.0.0.0/8", "four numbers 0-255")]
    [InlineData("10.0.0.0.0/8", "dotted-decimal")]
    [InlineData("0x7f.0.0.1", "dotted-decimal")]
    [InlineData("example.com", "dotted-decimal")]
    [InlineData(" 10.0.0.0/8", "dotted-decimal")]
    [InlineData("fe80::%eth0/64", "without a zone index")]
    [InlineData("10.0.0.0/33", "a number from 0 to 32")]
    [InlineData("2001:db8::/129", "a number from 0 to 128")]
    [InlineData("10.0.0.0/", "a number from 0 to 32")]
    [InlineData("10.0.0.0/-1", "a number from 0 to 32")]
    [InlineData("10.0.0.0/+8", "a number from 0 to 32")]
    [InlineData("10.0.0.0/ 8", "a number from 0 to 32")]
    [InlineData("10.0.0.0/8/8", "a number from 0 to 32")]
    public void TryParse_InvalidCidr_IsRejectedWithReason(string? text, string expectedMessagePart)
    {
        Assert.False(CidrNotation.TryParse(text, out _, out var error));

        Assert.Contains(expectedMessagePart, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.1.2.3", true)]
    [InlineData("10.0.0.0/8", "11.1.2.3", false)]
    [InlineData("10.0.0.0/8", "::ffff:10.1.2.3", true)]
    [InlineData("10.0.0.0/8", "::ffff:11.1.2.3", false)]
    [InlineData("::ffff:10.0.0.0/104", "10.1.2.3", true)]
    [InlineData("::ffff:10.0.0.0/104", "::ffff:10.1.2.3", true)]
    [InlineData("2001:db8::/32", "2001:db8:1::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    [InlineData("::/0", "10.1.2.3", false)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    public void AnyContains_Address_MatchesAcrossMappedForms(string cidr, string address, bool expected)
    {
        Assert.True(CidrNotation.TryParse(cidr, out var network, out var error), error);

        Assert.Equal(expected, CidrNotation.AnyContains([network], IPAddress.Parse(address)));
    }
}
