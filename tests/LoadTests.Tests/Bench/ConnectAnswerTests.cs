using System.Net.Http;
using System.Text;
using EgressLab.LoadTests.Bench;

namespace EgressLab.LoadTests.Tests.Bench;

public class ConnectAnswerTests
{
    [Theory]
    [InlineData("HTTP/1.1 200 Connection established\r\n\r\n", false, 200, null)]
    [InlineData("HTTP/1.1 200 OK\r\nVia: 1.1 proxy\r\n\r\n", false, 200, null)]
    [InlineData("HTTP/1.0 204 No Content\r\n\r\n", false, 204, null)]
    [InlineData("HTTP/1.1 403 Forbidden\r\nX-Proxy-Error: ERR_ACCESS_DENIED\r\nContent-Length: 27\r\nConnection: close\r\n\r\nDenied by rule default.\nxy\n", false, 403, "ERR_ACCESS_DENIED: Denied by rule default.")]
    [InlineData("HTTP/1.1 503 Service Unavailable\r\nx-proxy-error:  ERR_TOO_MANY_CONNECTIONS \r\nContent-Length: 0\r\n\r\n", false, 503, "ERR_TOO_MANY_CONNECTIONS")]
    [InlineData("HTTP/1.1 502 Bad Gateway\r\n\r\nno route to host\r\n", true, 502, "no route to host")]
    [InlineData("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", false, 407, "no reason given")]
    public void TryParse_CompleteAnswer_StatusAndReason(string text, bool final, int status, string? reason)
    {
        var bytes = Encoding.UTF8.GetBytes(text);

        Assert.True(ConnectAnswer.TryParse(bytes, final, out var answer));

        Assert.Equal(status, answer.Status);
        Assert.Equal(reason, answer.Reason);
        Assert.Equal(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4, answer.HeadLength);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 Connection established\r\n")]
    [InlineData("HTTP/1.1 403 Forbidden\r\nContent-Length: 20\r\n\r\nDenied")]
    // Without a length, a refusal's body runs to the close.
    [InlineData("HTTP/1.1 403 Forbidden\r\n\r\nDenied")]
    public void TryParse_Incomplete_WaitsForMore(string text)
    {
        Assert.False(ConnectAnswer.TryParse(Encoding.ASCII.GetBytes(text), final: false, out _));
    }

    [Fact]
    public void TryParse_RefusalCutShortByTheClose_ReasonFromWhatArrived()
    {
        Assert.True(ConnectAnswer.TryParse("HTTP/1.1 403 Forbidden\r\nContent-Length: 20\r\n\r\nDenied"u8, final: true, out var answer));

        Assert.Equal((403, "Denied"), (answer.Status, answer.Reason));
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n\r\n")]
    [InlineData("HTTP/2 200\r\n\r\n")]
    [InlineData("HTTP/1.1 2x0 OK\r\n\r\n")]
    public void TryParse_NotHttp1_InvalidResponse(string text)
    {
        var exception = Assert.Throws<HttpIOException>(() => ConnectAnswer.TryParse(Encoding.ASCII.GetBytes(text), final: false, out _));

        Assert.Equal(HttpRequestError.InvalidResponse, exception.HttpRequestError);
    }
}
