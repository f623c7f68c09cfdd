using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Authentication;
using EgressLab.LoadTests.Measurement;
using EgressLab.LoadTests.Scenarios;

namespace EgressLab.LoadTests.Tests.Scenarios;

public class ErrorClassifierTests
{
    public static TheoryData<Exception, string> Cases { get; } = new()
    {
        { new HttpRequestException(HttpRequestError.NameResolutionError), "dns" },
        { new HttpRequestException(HttpRequestError.ConnectionError, null, new SocketException((int)SocketError.ConnectionRefused)), "connect" },
        { new HttpRequestException(HttpRequestError.ConnectionError, null, new TimeoutException()), "timeout" },
        { new HttpRequestException(HttpRequestError.SecureConnectionError, null, new AuthenticationException()), "tls" },
        { new HttpRequestException(HttpRequestError.ProxyTunnelError, null, null, HttpStatusCode.BadGateway), "connect-refused" },
        { new HttpRequestException(HttpRequestError.ProxyTunnelError, null, new IOException("x", new SocketException((int)SocketError.ConnectionReset))), "reset" },
        { new HttpRequestException(HttpRequestError.ResponseEnded), "reset" },
        { new HttpRequestException(HttpRequestError.InvalidResponse), "other" },
        { new HttpRequestException(HttpRequestError.Unknown, null, new IOException("x", new SocketException((int)SocketError.ConnectionReset))), "reset" },
        { new HttpIOException(HttpRequestError.ResponseEnded), "reset" },
        { new TaskCanceledException(), "timeout" },
        { new AuthenticationException(), "tls" },
        { new SocketException((int)SocketError.HostNotFound), "dns" },
        { new SocketException((int)SocketError.ConnectionRefused), "connect" },
        { new SocketException((int)SocketError.NetworkUnreachable), "connect" },
        { new SocketException((int)SocketError.TimedOut), "timeout" },
        { new IOException("broken pipe"), "reset" },
        { new InvalidOperationException(), "other" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Classify_Exception_Class(Exception exception, string expected) =>
        Assert.Equal(expected, RequestErrorNames.Of(ErrorClassifier.Classify(exception), 0));
}
