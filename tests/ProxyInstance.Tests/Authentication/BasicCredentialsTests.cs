using System.Text;
using EgressLab.ProxyInstance.Authentication;

namespace EgressLab.ProxyInstance.Tests.Authentication;

public sealed class BasicCredentialsTests
{
    [Theory]
    [InlineData("Basic dXNlcjpwYXNz", "user", "pass")]
    [InlineData("basic dXNlcjpwYXNz", "user", "pass")]
    [InlineData("BASIC dXNlcjpwYXNz", "user", "pass")]
    [InlineData("Basic  dXNlcjpwYXNz", "user", "pass")]
    [InlineData(" Basic dXNlcjpwYXNz\t", "user", "pass")]
    [InlineData("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Aladdin", "open sesame")]
    [InlineData("Basic dGVzdDoxMjPCow==", "test", "123\u00A3")]
    [InlineData("Basic dXNlcjpwYTpzcw==", "user", "pa:ss")]
    [InlineData("Basic OnBhc3M=", "", "pass")]
    [InlineData("Basic dXNlcjo=", "user", "")]
    [InlineData("Basic Og==", "", "")]
    public void TryParse_WellFormed_ReturnsUserAndPassword(string header, string user, string password)
    {
        Assert.True(BasicCredentials.TryParse(header, out var parsedUser, out var parsedPassword));
        Assert.Equal(user, parsedUser);
        Assert.Equal(password, parsedPassword);
    }

    [Theory]
    [InlineData("jürgen:pässwörd ✓", "jürgen", "pässwörd ✓")]
    [InlineData("user:with spaces and \"quotes\"", "user", "with spaces and \"quotes\"")]
    [InlineData("日本:パスワード", "日本", "パスワード")]
    public void TryParse_Utf8UserPass_DecodesUtf8(string userPass, string user, string password)
    {
        var header = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(userPass));

        Assert.True(BasicCredentials.TryParse(header, out var parsedUser, out var parsedPassword));
        Assert.Equal(user, parsedUser);
        Assert.Equal(password, parsedPassword);
    }

    [Fact]
    public void TryParse_LongPassword_UsesPooledBuffer()
    {
        var password = new string('x', 4000);
        var header = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:" + password));

        Assert.True(BasicCredentials.TryParse(header, out var user, out var parsed));
        Assert.Equal("user", user);
        Assert.Equal(password, parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Basic")]
    [InlineData("Basic ")]
    [InlineData("Basic   ")]
    [InlineData("BasicdXNlcjpwYXNz")]
    [InlineData("Basic\tdXNlcjpwYXNz")]
    [InlineData("Basicx dXNlcjpwYXNz")]
    [InlineData("Bearer dXNlcjpwYXNz")]
    [InlineData("Digest username=\"user\"")]
    [InlineData("Basic dXNlcnBhc3M=")]
    [InlineData("Basic dXNlcjpwYXN")]
    [InlineData("Basic dXNlcjpwYXNz=")]
    [InlineData("Basic dXNlcjpwYXNz====")]
    [InlineData("Basic dXNl cjpwYXNz")]
    [InlineData("Basic dXNlcjpwYXNz extra")]
    [InlineData("Basic dXNlcj!wYXNz")]
    [InlineData("Basic dXNlcj-wYXNz")]
    [InlineData("Basic dXNlcjpw=XNz")]
    [InlineData("Basic ====")]
    public void TryParse_Malformed_ReturnsFalse(string? header)
    {
        Assert.False(BasicCredentials.TryParse(header, out var user, out var password));
        Assert.Equal(string.Empty, user);
        Assert.Equal(string.Empty, password);
    }

    [Theory]
    [InlineData("user:pa\u0001ss")]
    [InlineData("us\u0000er:pass")]
    [InlineData("user:pass\n")]
    [InlineData("user:pa\tss")]
    [InlineData("user\u007F:pass")]
    [InlineData("user:pa\u0085ss")]
    public void TryParse_ControlCharacter_ReturnsFalse(string userPass)
    {
        var header = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(userPass));

        Assert.False(BasicCredentials.TryParse(header, out _, out _));
    }

    [Theory]
    [InlineData(new byte[] { 0x75, 0x3A, 0xFF })]
    [InlineData(new byte[] { 0x75, 0x3A, 0xC3 })]
    [InlineData(new byte[] { 0x75, 0x3A, 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0x75, 0x3A, 0xC0, 0xBA })]
    public void TryParse_InvalidUtf8_ReturnsFalse(byte[] userPass)
    {
        var header = "Basic " + Convert.ToBase64String(userPass);

        Assert.False(BasicCredentials.TryParse(header, out _, out _));
    }
}
