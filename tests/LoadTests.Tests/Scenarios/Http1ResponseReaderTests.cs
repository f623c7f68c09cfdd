using System.Net.Http;
using System.Text;
using EgressLab.LoadTests.Scenarios;

namespace EgressLab.LoadTests.Tests.Scenarios;

public class Http1ResponseReaderTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, 5)]
    [InlineData("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n", 404, 0)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nTrailer: t\r\n\r\n", 200, 11)]
    [InlineData("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil the end", 200, 13)]
    public async Task ReadBodyAsync_Framing_CountsBodyBytes(string response, int status, long length)
    {
        // A small buffer, so heads, lines and bodies straddle reads.
        var reader = new Http1ResponseReader(new MemoryStream(Encoding.ASCII.GetBytes(response)), new byte[64]);

        var head = await reader.ReadHeadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(Limit, TestContext.Current.CancellationToken);
        var body = await reader.ReadBodyAsync(head, TestContext.Current.CancellationToken).AsTask().WaitAsync(Limit, TestContext.Current.CancellationToken);

        Assert.Equal(status, head.Status);
        Assert.Equal(length, body);
        Assert.NotEqual(0, reader.FirstByteTimestamp);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", HttpRequestError.ResponseEnded)]
    [InlineData("HTTP/1.1 200 OK\r\nContent", HttpRequestError.ResponseEnded)]
    [InlineData("SSH-2.0-OpenSSH\r\n\r\n", HttpRequestError.InvalidResponse)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", HttpRequestError.InvalidResponse)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", HttpRequestError.InvalidResponse)]
    public async Task ReadAsync_BrokenResponse_HttpIOException(string response, HttpRequestError expected)
    {
        var reader = new Http1ResponseReader(new MemoryStream(Encoding.ASCII.GetBytes(response)), new byte[64]);

        var exception = await Assert.ThrowsAsync<HttpIOException>(async () =>
        {
            var head = await reader.ReadHeadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(Limit, TestContext.Current.CancellationToken);
            await reader.ReadBodyAsync(head, TestContext.Current.CancellationToken).AsTask().WaitAsync(Limit, TestContext.Current.CancellationToken);
        });

        Assert.Equal(expected, exception.HttpRequestError);
    }

    [Fact]
    public async Task ReadHeadAsync_HeadLargerThanBuffer_Refused()
    {
        var response = "HTTP/1.1 200 OK\r\nX-Long: " + new string('a', 200) + "\r\n\r\n";
        var reader = new Http1ResponseReader(new MemoryStream(Encoding.ASCII.GetBytes(response)), new byte[64]);

        var exception = await Assert.ThrowsAsync<HttpIOException>(async () => await reader.ReadHeadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(Limit, TestContext.Current.CancellationToken));

        Assert.Equal(HttpRequestError.InvalidResponse, exception.HttpRequestError);
    }
}
