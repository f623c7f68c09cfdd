using EgressLab.ProxyInstance.Policy;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Tests.Targets;

public sealed class HostNameTests
{
    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("Example.COM", "example.com")]
    [InlineData("example.com.", "example.com")]
    [InlineData("EXAMPLE.COM.", "example.com")]
    [InlineData("localhost", "localhost")]
    [InlineData("_sip._tcp.example.com", "_sip._tcp.example.com")]
    [InlineData("a-.example.com", "a-.example.com")]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    [InlineData("BÜCHER.Example.", "xn--bcher-kva.example")]
    [InlineData("münchen.de", "xn--mnchen-3ya.de")]
    [InlineData("MÜNCHEN.DE", "xn--mnchen-3ya.de")]
    [InlineData("XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example")]
    [InlineData("例え.テスト", "xn--r8jz45g.xn--zckzah")]
    [InlineData("www.bücher.example", "www.xn--bcher-kva.example")]
    [InlineData("bücher\u3002example", "xn--bcher-kva.example")]
    public void Normalize_ValidName_ReturnsAsciiLowerCase(string input, string expected)
    {
        Span<char> buffer = stackalloc char[HostName.MaxLength];

        var status = HostName.Normalize(input, buffer, strict: false, out var written, out _);

        Assert.Equal(HostNameStatus.Valid, status);
        Assert.Equal(expected, buffer[..written].ToString());
    }

    [Theory]
    [InlineData("", "Empty")]
    [InlineData(".", "Empty")]
    [InlineData("example.com..", "EmptyLabel")]
    [InlineData("a..example.com", "EmptyLabel")]
    [InlineData(".example.com", "EmptyLabel")]
    [InlineData("exa mple.com", "InvalidCharacter")]
    [InlineData("example.com:443", "InvalidCharacter")]
    [InlineData("ex*ample.com", "InvalidCharacter")]
    [InlineData("bü cher.example", "InvalidCharacter")]
    [InlineData("bücher..example", "EmptyLabel")]
    [InlineData("bücher\u3002\u3002example", "InvalidInternationalName")]
    public void Normalize_InvalidName_ReportsWhy(string input, string expected)
    {
        Span<char> buffer = stackalloc char[HostName.MaxLength];

        var status = HostName.Normalize(input, buffer, strict: false, out _, out _);

        Assert.Equal(Enum.Parse<HostNameStatus>(expected), status);
    }

    [Fact]
    public void Normalize_LabelOf63_IsValid_AndOf64_IsNot()
    {
        Span<char> buffer = stackalloc char[HostName.MaxLength];

        Assert.Equal(HostNameStatus.Valid, HostName.Normalize(new string('a', 63) + ".com", buffer, false, out _, out _));
        Assert.Equal(HostNameStatus.LabelTooLong, HostName.Normalize(new string('a', 64) + ".com", buffer, false, out _, out var problem));
        Assert.Equal(new string('a', 64), buffer[problem].ToString());
    }

    [Fact]
    public void Normalize_NameOf253_IsValid_AndOf254_IsNot()
    {
        Span<char> buffer = stackalloc char[HostName.MaxLength];
        var label63 = new string('a', 63);
        var name253 = string.Join('.', label63, label63, label63, new string('b', 61));
        var name254 = string.Join('.', label63, label63, label63, new string('b', 62));

        Assert.Equal(HostNameStatus.Valid, HostName.Normalize(name253, buffer, false, out var written, out _));
        Assert.Equal(253, written);
        Assert.Equal(HostNameStatus.Valid, HostName.Normalize(name253 + ".", buffer, false, out _, out _));
        Assert.Equal(HostNameStatus.TooLong, HostName.Normalize(name254, buffer, false, out _, out _));
    }

    [Theory]
    [InlineData("-a.example.com")]
    [InlineData("a-.example.com")]
    [InlineData("example.com-")]
    public void Normalize_HyphenAtLabelEdge_IsRejectedOnlyWhenStrict(string input)
    {
        Span<char> buffer = stackalloc char[HostName.MaxLength];

        Assert.Equal(HostNameStatus.Valid, HostName.Normalize(input, buffer, strict: false, out _, out _));
        Assert.Equal(HostNameStatus.HyphenAtLabelEdge, HostName.Normalize(input, buffer, strict: true, out _, out _));
    }
}
