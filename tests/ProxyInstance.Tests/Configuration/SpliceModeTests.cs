using System.Net;
using EgressLab.ProxyInstance.Configuration;

namespace EgressLab.ProxyInstance.Tests.Configuration;

public sealed class SpliceModeTests
{
    private static readonly IPEndPoint Listener = new(IPAddress.Parse("10.10.2.200"), 3128);

    [Theory]
    [InlineData("10.10.1.15")]
    [InlineData("203.0.113.7")]
    [InlineData("::ffff:10.10.1.15")]
    [InlineData("2001:db8::15")]
    public void Auto_ClientOnAnotherHost_Splices(string client)
    {
        Assert.True(SpliceMode.Auto.AppliesTo(new IPEndPoint(IPAddress.Parse(client), 40000), Listener));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.5.6.7")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("10.10.2.200")]
    [InlineData("::ffff:10.10.2.200")]
    public void Auto_ClientOnTheProxysHost_DoesNotSplice(string client)
    {
        Assert.False(SpliceMode.Auto.AppliesTo(new IPEndPoint(IPAddress.Parse(client), 40000), Listener));
    }

    [Fact]
    public void Auto_ClientNotOnIp_DoesNotSplice()
    {
        Assert.False(SpliceMode.Auto.AppliesTo(null, Listener));
        Assert.False(SpliceMode.Auto.AppliesTo(new System.Net.Sockets.UnixDomainSocketEndPoint("/run/proxy.sock"), null));
    }

    [Fact]
    public void OnAndOff_IgnoreWhereTheClientIs()
    {
        var local = new IPEndPoint(IPAddress.Loopback, 40000);
        var remote = new IPEndPoint(IPAddress.Parse("10.10.1.15"), 40000);

        Assert.True(SpliceMode.On.AppliesTo(local, Listener));
        Assert.True(SpliceMode.On.AppliesTo(remote, Listener));
        Assert.False(SpliceMode.Off.AppliesTo(local, Listener));
        Assert.False(SpliceMode.Off.AppliesTo(remote, Listener));
    }

    [Theory]
    [InlineData("auto", "Auto")]
    [InlineData("ON", "On")]
    [InlineData("True", "On")]
    [InlineData("off", "Off")]
    [InlineData("FALSE", "Off")]
    public void TryParse_KnownSpellings(string text, string expected)
    {
        Assert.True(SpliceModes.TryParse(text, out var mode));
        Assert.Equal(Enum.Parse<SpliceMode>(expected), mode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("yes")]
    [InlineData("splice")]
    public void TryParse_Unknown_IsRefused(string text)
    {
        Assert.False(SpliceModes.TryParse(text, out _));
    }
}
