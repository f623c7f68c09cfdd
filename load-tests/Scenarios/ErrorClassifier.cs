using System.Net.Http;
using System.Net.Sockets;
using System.Security.Authentication;
using EgressLab.LoadTests.Measurement;

namespace EgressLab.LoadTests.Scenarios;

/// <summary>The one place that maps a failed request's exception to its error class.</summary>
internal static class ErrorClassifier
{
    /// <summary>Exceptions a request can fail with on the network; anything else is a defect and is not caught as a failure.</summary>
    public static bool IsRequestFailure(Exception exception) => exception is HttpRequestException or IOException or SocketException
        or AuthenticationException or OperationCanceledException or TimeoutException;

    public static RequestError Classify(Exception exception) => exception switch
    {
        // Our own timeout, or the run ending while the request was outstanding: either way no answer came in time.
        OperationCanceledException or TimeoutException => RequestError.Timeout,
        HttpRequestException http => FromHttpRequestError(http.HttpRequestError, http.StatusCode is not null, http.InnerException),
        HttpIOException io => FromHttpRequestError(io.HttpRequestError, false, io.InnerException),
        AuthenticationException => RequestError.Tls,
        SocketException socket => FromSocketError(socket.SocketErrorCode),
        IOException { InnerException: SocketException socket } => FromSocketError(socket.SocketErrorCode),
        // A stream that ends or breaks mid-response without a socket error: the peer went away.
        IOException => RequestError.Reset,
        _ => RequestError.Other,
    };

    public static RequestError FromSocketError(SocketError error) => error switch
    {
        SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData or SocketError.NoRecovery => RequestError.Dns,
        SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown
            or SocketError.NetworkDown or SocketError.AddressNotAvailable or SocketError.AccessDenied => RequestError.Connect,
        SocketError.TimedOut => RequestError.Timeout,
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown or SocketError.NotConnected
            or SocketError.Disconnecting or SocketError.OperationAborted => RequestError.Reset,
        _ => RequestError.Other,
    };

    private static RequestError FromHttpRequestError(HttpRequestError error, bool hasStatus, Exception? inner) => error switch
    {
        HttpRequestError.NameResolutionError => RequestError.Dns,
        HttpRequestError.ConnectionError => inner is OperationCanceledException or TimeoutException ? RequestError.Timeout : RequestError.Connect,
        HttpRequestError.SecureConnectionError => RequestError.Tls,

        // With a status, the proxy answered CONNECT with a refusal; without one, the tunnel broke some other way.
        HttpRequestError.ProxyTunnelError => hasStatus ? RequestError.ConnectRefused : FromInner(inner),
        HttpRequestError.ResponseEnded => RequestError.Reset,
        HttpRequestError.Unknown => FromInner(inner),
        _ => RequestError.Other,
    };

    private static RequestError FromInner(Exception? inner) => inner is null ? RequestError.Other : Classify(inner);
}
