using System.Text;
using EgressLab.LoadTests.Scenarios;

namespace EgressLab.LoadTests.Tests.Scenarios;

public sealed class Http1HeadTests
{
    [Theory]
    [InlineData("HTTP/1.1 200 OK", 200)]
    [InlineData("HTTP/1.0 407 Proxy Authentication Required", 407)]
    [InlineData("HTTP/1.1 204 ", 204)]
    public void TryParseStatus_StatusLine_ReadsTheCode(string line, int expected)
    {
        Assert.True(Http1Head.TryParseStatus(Encoding.ASCII.GetBytes(line), out var status));
        Assert.Equal(expected, status);
    }

    [Theory]
    [InlineData("HTTP/2 200 OK")]
    [InlineData("HTTP/1.1 2x0 OK")]
    [InlineData("HTTP/1.1  200 OK")]
    [InlineData("SSH-2.0-OpenSSH_9.2")]
    [InlineData("HTTP/1.1 20")]
    public void TryParseStatus_NotAStatusLine_IsFalse(string line) =>
        Assert.False(Http1Head.TryParseStatus(Encoding.ASCII.GetBytes(line), out _));

    [Fact]
    public void TryTakeField_FieldLines_TrimsValuesAndSkipsLinesWithoutAName()
    {
        ReadOnlySpan<byte> fields = "Content-Length: \t 12 \r\nno colon here\r\n: nameless\r\nX-Proxy-Error:ERR_ACCESS_DENIED\r\n"u8;
        var taken = new List<(string, string)>();

        while (Http1Head.TryTakeField(ref fields, out var name, out var value))
        {
            taken.Add((Encoding.ASCII.GetString(name), Encoding.ASCII.GetString(value)));
        }

        Assert.Equal([("Content-Length", "12"), ("X-Proxy-Error", "ERR_ACCESS_DENIED")], taken);
        Assert.True(fields.IsEmpty);
    }
}
