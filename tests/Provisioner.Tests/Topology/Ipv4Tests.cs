using System.Net;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Topology;

public sealed class Ipv4Tests
{
    [Theory]
    [InlineData("10.10.0.0/16", "10.10.0.0/16")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("198.51.100.10/32", "198.51.100.10/32")]
    public void TryParseCidr_NetworkAddress_ParsesWithoutProblem(string text, string expected)
    {
        Assert.True(Ipv4.TryParseCidr(text, out var network, out var problem, out _));

        Assert.Equal(IPNetwork.Parse(expected), network);
        Assert.Empty(problem);
    }

    [Theory]
    [InlineData("10.10.0.1/16", "10.10.0.0/16")]
    [InlineData("10.10.2.7/24", "10.10.2.0/24")]
    [InlineData("255.255.255.255/0", "0.0.0.0/0")]
    public void TryParseCidr_HostBitsSet_ReturnsTheNetworkMeantAndAProblem(string text, string expected)
    {
        Assert.True(Ipv4.TryParseCidr(text, out var network, out var problem, out var fix));

        Assert.Equal(IPNetwork.Parse(expected), network);
        Assert.Contains("host bits set", problem, StringComparison.Ordinal);
        Assert.Equal($"Use the network address {expected}.", fix);
    }

    [Theory]
    [InlineData("10.10.0.0", "no prefix length")]
    [InlineData("10.10.0.0/", "prefix length")]
    [InlineData("10.10.0.0/33", "prefix length")]
    [InlineData("10.10.0.0/+8", "prefix length")]
    [InlineData("10.10/16", "not an IPv4 address")]
    [InlineData("10.10.0.256/24", "from 0 to 255")]
    [InlineData("010.10.0.0/16", "without leading zeros")]
    [InlineData("0x0a.10.0.0/16", "from 0 to 255")]
    [InlineData("fd00::/8", "IPv6")]
    [InlineData("fd00::1", "IPv6")]
    [InlineData("", "no prefix length")]
    public void TryParseCidr_Malformed_SaysWhatIsWrong(string text, string phrase)
    {
        Assert.False(Ipv4.TryParseCidr(text, out _, out var problem, out var fix));

        Assert.Contains(phrase, problem, StringComparison.Ordinal);
        Assert.NotEmpty(fix);
    }

    [Theory]
    [InlineData("10.10.1.0/24", "10.10.1.128/25", true)]
    [InlineData("10.10.1.128/25", "10.10.1.0/24", true)]
    [InlineData("10.10.1.0/24", "10.10.2.0/24", false)]
    [InlineData("0.0.0.0/0", "203.0.113.0/24", true)]
    public void Overlaps_TwoRanges_IsTrueWhenTheyShareAnAddress(string a, string b, bool expected) =>
        Assert.Equal(expected, Ipv4.Overlaps(IPNetwork.Parse(a), IPNetwork.Parse(b)));

    [Theory]
    [InlineData("10.10.0.0/16", "10.10.1.0/24", true)]
    [InlineData("10.10.0.0/16", "10.10.0.0/16", true)]
    [InlineData("10.10.1.0/24", "10.10.0.0/16", false)]
    [InlineData("10.10.0.0/16", "0.0.0.0/0", false)]
    public void Contains_TwoRanges_IsTrueWhenTheInnerLiesWhollyInside(string outer, string inner, bool expected) =>
        Assert.Equal(expected, Ipv4.Contains(IPNetwork.Parse(outer), IPNetwork.Parse(inner)));

    [Fact]
    public void Broadcast_Subnet_IsItsLastAddress() =>
        Assert.Equal(IPAddress.Parse("10.10.2.255"), Ipv4.Broadcast(IPNetwork.Parse("10.10.2.0/24")));
}
