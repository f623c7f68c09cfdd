using System.Net;
using EgressLab.ProxyInstance.Egress;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Tests.Targets;

public class HostLiteralTests
{
    [Theory]
    // 127.0.0.2 in every IPv4 notation WHATWG URL and inet_aton accept
    [InlineData("127.0.0.2", "127.0.0.2")]
    [InlineData("2130706434", "127.0.0.2")]
    [InlineData("0x7f000002", "127.0.0.2")]
    [InlineData("0X7F000002", "127.0.0.2")]
    [InlineData("0X7F.0.0.2", "127.0.0.2")]
    [InlineData("0x7f.0.0.2", "127.0.0.2")]
    [InlineData("0177.0.0.2", "127.0.0.2")]
    [InlineData("0177.0.0.02", "127.0.0.2")]
    [InlineData("0177.000.000.002", "127.0.0.2")]
    [InlineData("017700000002", "127.0.0.2")]
    [InlineData("127.2", "127.0.0.2")]
    [InlineData("127.0.2", "127.0.0.2")]
    [InlineData("0x7f.2", "127.0.0.2")]
    [InlineData("0x7f.0.0x2", "127.0.0.2")]
    [InlineData("127.0.0.2.", "127.0.0.2")]
    [InlineData("2130706434.", "127.0.0.2")]
    // shortened forms fill the remaining bytes from the last part
    [InlineData("127.1", "127.0.0.1")]
    [InlineData("10.65535", "10.0.255.255")]
    [InlineData("10.16777215", "10.255.255.255")]
    [InlineData("10.1.65535", "10.1.255.255")]
    [InlineData("1.0x10000", "1.1.0.0")]
    [InlineData("0x7f.1", "127.0.0.1")]
    // edge numbers
    [InlineData("0", "0.0.0.0")]
    [InlineData("0x", "0.0.0.0")]
    [InlineData("0x.0x.0x.0x", "0.0.0.0")]
    [InlineData("00", "0.0.0.0")]
    [InlineData("123", "0.0.0.123")]
    [InlineData("4294967295", "255.255.255.255")]
    [InlineData("0xffffffff", "255.255.255.255")]
    [InlineData("037777777777", "255.255.255.255")]
    [InlineData("0x00000000000000000000007f.1", "127.0.0.1")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    // metadata
    [InlineData("2852039166", "169.254.169.254")]
    [InlineData("0xa9fea9fe", "169.254.169.254")]
    [InlineData("0251.0376.0251.0376", "169.254.169.254")]
    [InlineData("169.254.43518", "169.254.169.254")]
    // IPv6, bracketed and not
    [InlineData("[::1]", "::1")]
    [InlineData("::1", "::1")]
    [InlineData("[::ffff:127.0.0.2]", "::ffff:127.0.0.2")]
    [InlineData("[::ffff:7f00:2]", "::ffff:127.0.0.2")]
    [InlineData("[64:ff9b::7f00:2]", "64:ff9b::7f00:2")]
    [InlineData("[2002:7f00:0002::1]", "2002:7f00:2::1")]
    [InlineData("[2001:0:4136:e378:8000:63bf:80ff:fffd]", "2001:0:4136:e378:8000:63bf:80ff:fffd")]
    [InlineData("[FD00:EC2::254]", "fd00:ec2::254")]
    [InlineData("0:0:0:0:0:0:0:1", "::1")]
    [InlineData("[::]", "::")]
    public void Classify_IpLiteralInAnyNotation_ReturnsCanonicalAddress(string host, string expected)
    {
        HostKind kind = HostLiteral.Classify(host, out IPAddress? address);

        Assert.Equal(HostKind.IpLiteral, kind);
        Assert.Equal(IPAddress.Parse(expected), address);
        Assert.True(HostLiteral.TryParse(host, out IPAddress? parsed));
        Assert.Equal(address, parsed);
    }

    [Theory]
    [InlineData("fe80::1%eth0", 0)]
    [InlineData("fe80::1%3", 3)]
    [InlineData("fe80::1%4294967295", 4294967295)]
    [InlineData("[fe80::1%25eth0]", 0)]
    [InlineData("[fe80::1%253]", 3)]
    [InlineData("[fe80::1%25en0.5_x~]", 0)]
    public void Classify_ZoneId_ReturnsLinkLocalWithNumericScopeOnly(string host, long expectedScope)
    {
        HostKind kind = HostLiteral.Classify(host, out IPAddress? address);

        Assert.Equal(HostKind.IpLiteral, kind);
        Assert.NotNull(address);
        Assert.Equal(expectedScope, address.ScopeId);
        Assert.True(address.IsIPv6LinkLocal);
        Assert.Equal(AddressClass.LinkLocal, AddressClassifier.Classify(address));
    }

    [Theory]
    [InlineData("example.com")]
    [InlineData("example.com.")]
    [InlineData("EXAMPLE.COM")]
    [InlineData("localhost")]
    [InlineData("a")]
    [InlineData("_")]
    [InlineData("_dmarc.example.com")]
    [InlineData("my_host.example.com")]
    [InlineData("a-b.example.com")]
    [InlineData("a--b.example.com")]
    [InlineData("123.example.com")]
    [InlineData("1.2.3.com")]
    [InlineData("1.2.3.4.example")]
    [InlineData("s3.eu-west-1.amazonaws.com")]
    [InlineData("xn--bcher-kva.example")]
    [InlineData("bücher.example")]
    [InlineData("例え.テスト")]
    [InlineData("παράδειγμα.δοκιμή")]
    [InlineData("١٢٧.example")]
    [InlineData("0.0.0.١")]              // Arabic-Indic digits are not ASCII digits, so this does not end in a number
    [InlineData("foo.0x1g")]             // not a valid hex number, so not an IPv4 attempt
    [InlineData("foo.0xg")]
    [InlineData("0x7f.example")]
    [InlineData("foo.1a")]
    [InlineData("col·legi.example")]      // U+00B7 middle dot, RFC 5892 Appendix A.3
    [InlineData("می\u200Cخواهم.example")] // ZWNJ, RFC 5892 Appendix A.1
    public void Classify_DnsName_ReturnsName(string host)
    {
        HostKind kind = HostLiteral.Classify(host, out IPAddress? address);

        Assert.Equal(HostKind.Name, kind);
        Assert.Null(address);
        Assert.False(HostLiteral.TryParse(host, out _));

        // The resolver's own parser must not see a literal in anything we call a name either.
        Assert.False(IPAddress.TryParse(host, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a..b")]
    [InlineData(".example.com")]
    [InlineData("example.com..")]
    [InlineData("exa mple.com")]
    [InlineData(" example.com")]
    [InlineData("example.com ")]
    [InlineData("example.com\t")]
    [InlineData("exa\0mple.com")]
    [InlineData("example.com/")]
    [InlineData("user@example.com")]
    [InlineData("example.com:443")]
    [InlineData("exa%6dple.com")]
    [InlineData("%31%32%37.0.0.1")]
    [InlineData("exa*mple.com")]
    [InlineData("*.example.com")]
    [InlineData("exam\\ple.com")]
    [InlineData("-")]
    [InlineData("-example.com")]
    [InlineData("example-.com")]
    [InlineData("example.-com")]
    [InlineData("example.com-")]
    [InlineData("exa\u00ADmple.com")]    // soft hyphen: mapped away by UTS #46, not a letter
    [InlineData("exa\u200Bmple.com")]    // zero-width space
    [InlineData("\uD800x.example")]      // lone surrogate
    [InlineData("ex\u2028ample.com")]
    // numeric hosts that do not parse (WHATWG: the last label is a number, so it is an IPv4 attempt)
    [InlineData("1.2.3.4.5")]
    [InlineData("256.1.1.1")]
    [InlineData("1.256.1.1")]
    [InlineData("1.2.256.1")]
    [InlineData("1.2.3.256")]
    [InlineData("1.2.65536")]
    [InlineData("1.16777216")]
    [InlineData("4294967296")]
    [InlineData("0x100000000")]
    [InlineData("0x1ffffffffffffffffffffffff")]
    [InlineData("99999999999999999999999999")]
    [InlineData("08.0.0.1")]
    [InlineData("0.0.0.09")]
    [InlineData("0x7g.0.0.1")]
    [InlineData("127.0.0.1..")]
    [InlineData("127..0.1")]
    [InlineData(".127.0.0.1")]
    [InlineData("foo.123")]
    [InlineData("example.0x")]
    [InlineData("example.0x7f")]
    [InlineData("a.b.c.1")]
    [InlineData("1.2.3.-4")]
    [InlineData("+1.2.3.4")]
    [InlineData("127.0.0.1%1")]
    [InlineData("127.0.0.1 ")]
    [InlineData("１２７.0.0.1")]        // fullwidth digits: the last label is ASCII, so an IPv4 attempt that fails
    // compatibility characters that UTS #46 folds into an IPv4 literal
    [InlineData("１２７.０.０.１")]
    [InlineData("127。0。0。1")]
    [InlineData("127．0．0．1")]
    [InlineData("127｡0｡0｡1")]
    [InlineData("0ˣ7f.example")]
    [InlineData("0ₓ7f.example")]
    [InlineData("ᵃ.example")]
    [InlineData("𝟏𝟐𝟕.example")]
    [InlineData("①.example")]
    [InlineData("ⅽ.example")]
    // bad IPv6
    [InlineData("[]")]
    [InlineData("[")]
    [InlineData("[::1")]
    [InlineData("::1]")]
    [InlineData("[[::1]]")]
    [InlineData("[::1]:80")]
    [InlineData("[127.0.0.1]")]
    [InlineData("[example.com]")]
    [InlineData("[v1.fe80::1]")]
    [InlineData("1::2::3")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("::ffff:127.1")]
    [InlineData("::ffff:0x7f.0.0.1")]
    [InlineData("::1/128")]
    [InlineData("::g")]
    [InlineData(":")]
    [InlineData("fe80::1%")]
    [InlineData("fe80::1%eth 0")]
    [InlineData("fe80::1%eth%0")]
    [InlineData("fe80::1%4294967296")]
    [InlineData("[fe80::1%eth0]")]       // inside brackets RFC 6874 requires the "%" to be escaped as "%25"
    [InlineData("[fe80::1%25]")]
    [InlineData("[fe80::1%]")]
    public void Classify_NeitherNameNorLiteral_ReturnsInvalid(string host)
    {
        HostKind kind = HostLiteral.Classify(host, out IPAddress? address);

        Assert.Equal(HostKind.Invalid, kind);
        Assert.Null(address);
        Assert.False(HostLiteral.TryParse(host, out _));
    }

    [Theory]
    [InlineData(63, HostKind.Name)]
    [InlineData(64, HostKind.Invalid)]
    public void Classify_LabelLength_LimitedTo63(int length, object expected)
    {
        // The enum is internal and a public test method cannot name it, so it arrives boxed.
        HostKind expectedValue = (HostKind)expected;
        string host = new string('a', length) + ".example";

        Assert.Equal(expectedValue, HostLiteral.Classify(host, out _));
    }

    [Theory]
    [InlineData(253, false, HostKind.Name)]
    [InlineData(253, true, HostKind.Name)]
    [InlineData(254, false, HostKind.Invalid)]
    [InlineData(254, true, HostKind.Invalid)]
    public void Classify_NameLength_LimitedTo253WithoutTrailingDot(int length, bool trailingDot, object expected)
    {
        // The enum is internal and a public test method cannot name it, so it arrives boxed.
        HostKind expectedValue = (HostKind)expected;
        // Labels of 49 "a" and a dot, cut to the exact length; never ends in a dot before the optional one.
        string host = string.Concat(Enumerable.Repeat(new string('a', 49) + ".", 6))[..(length - 1)] + "b";
        Assert.Equal(length, host.Length);

        Assert.Equal(expectedValue, HostLiteral.Classify(trailingDot ? host + "." : host, out _));
    }
}
