using System.Net;
using EgressLab.ProxyInstance.Allowlist;

namespace EgressLab.ProxyInstance.Tests.Allowlist;

public sealed class ClientNetworksTests
{
    [Theory]
    [InlineData("10.10.2.101", 24, "10.10.2.0/24")]
    [InlineData("10.10.2.101", 32, "10.10.2.101/32")]
    [InlineData("10.10.2.101", 0, "0.0.0.0/0")]
    [InlineData("::ffff:10.10.2.101", 16, "10.10.0.0/16")]
    [InlineData("2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::/64")]
    public void Of_Address_IsItsNetwork(string address, int prefix, string expected) =>
        Assert.Equal(expected, ClientNetworks.Of(IPAddress.Parse(address), prefix, prefix).ToString());

    [Theory]
    [InlineData("10.0.0.0/24,10.0.1.0/24", "10.0.0.0/23")]
    [InlineData("10.0.0.0/24,10.0.1.0/24,10.0.2.0/24,10.0.3.0/24", "10.0.0.0/22")]
    // Adjacent but not two halves of one network: 10.0.1.0/24 and 10.0.2.0/24 stay apart.
    [InlineData("10.0.2.0/24,10.0.1.0/24", "10.0.1.0/24,10.0.2.0/24")]
    [InlineData("10.0.0.0/16,10.0.5.0/24,192.168.1.0/24", "10.0.0.0/16,192.168.1.0/24")]
    [InlineData("2001:db8:0:1::/64,10.0.0.0/24,2001:db8::/64", "10.0.0.0/24,2001:db8::/63")]
    public void Merge_Networks_FewestCoveringExactlyTheSame(string input, string expected)
    {
        var networks = input.Split(',').Select(n => IPNetwork.Parse(n));

        Assert.Equal(expected, string.Join(',', ClientNetworks.Merge(networks)));
    }
}
