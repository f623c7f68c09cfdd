using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using EgressLab.LoadTests.Load;
using EgressLab.LoadTests.Measurement;

namespace EgressLab.LoadTests.Scenarios;

/// <summary>
/// new-connection: every request on a fresh TCP connection and TLS session (through a proxy, a fresh CONNECT tunnel),
/// made by hand over a raw socket so each phase can be timed on its own: name lookup, TCP connect, CONNECT to its 200,
/// TLS handshake, first byte of the response after the GET was written, and the total from the start.
/// </summary>
internal sealed class NewConnectionScenario : ILoadOperation
{
    public const int Dns = 0;
    public const int TcpConnect = 1;
    public const int ProxyConnect = 2;
    public const int TlsHandshake = 3;
    public const int FirstByte = 4;
    public const int Total = 5;

    // Large enough for any sane response head; a longer one is refused rather than grown.
    private const int BufferSize = 16 * 1024;

    private static readonly string[] Phases = ["dns", "tcp-connect", "proxy-connect", "tls-handshake", "first-byte", "total"];
    private static readonly List<SslApplicationProtocol> Http11 = [SslApplicationProtocol.Http11];

    private readonly string _connectHost;
    private readonly IPAddress[]? _connectAddresses;
    private readonly int _connectPort;
    private readonly bool _proxied;
    private readonly byte[] _connectRequest;
    private readonly byte[] _getRequest;
    private readonly string _tlsHost;
    private readonly RemoteCertificateValidationCallback? _validation;
    private readonly TimeSpan _timeout;

    public NewConnectionScenario(Uri target, Uri? proxy, CertificateTrust trust, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(trust);
        if (target.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException("new-connection needs an https target", nameof(target));
        }

        var via = proxy ?? target;
        _connectHost = via.DnsSafeHost;
        _connectAddresses = IPAddress.TryParse(_connectHost, out var literal) ? [literal] : null;
        _connectPort = via.Port;
        _proxied = proxy is not null;
        var authority = $"{(target.HostNameType == UriHostNameType.IPv6 ? target.Host : target.IdnHost)}:{target.Port}";
        _connectRequest = Encoding.ASCII.GetBytes($"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: egress-lab-load/1.0\r\n\r\n");
        var host = target.IsDefaultPort ? (target.HostNameType == UriHostNameType.IPv6 ? target.Host : target.IdnHost) : authority;
        _getRequest = Encoding.ASCII.GetBytes(
            $"GET {target.PathAndQuery} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: egress-lab-load/1.0\r\nAccept: */*\r\nConnection: close\r\n\r\n");
        _tlsHost = target.HostNameType == UriHostNameType.Dns ? target.IdnHost : target.DnsSafeHost;
        _validation = trust.Callback;
        _timeout = timeout;
    }

    public IReadOnlyList<string> PhaseNames => Phases;

    public async ValueTask<OperationOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        var token = timeout.Token;
        var phases = new long[Phases.Length];
        Array.Fill(phases, -1);
        var sent = Stopwatch.GetTimestamp();
        var stage = Dns;
        long bytesDown = 0;
        Socket? socket = null;
        Stream? stream = null;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            var addresses = _connectAddresses;
            if (addresses is null)
            {
                addresses = await System.Net.Dns.GetHostAddressesAsync(_connectHost, token).ConfigureAwait(false);
                phases[Dns] = Stopwatch.GetTimestamp() - sent;
            }

            stage = TcpConnect;
            var begun = Stopwatch.GetTimestamp();
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(addresses, _connectPort, token).ConfigureAwait(false);
            phases[TcpConnect] = Stopwatch.GetTimestamp() - begun;
            stream = new NetworkStream(socket, ownsSocket: true);
            socket = null;

            if (_proxied)
            {
                stage = ProxyConnect;
                begun = Stopwatch.GetTimestamp();
                await stream.WriteAsync(_connectRequest, token).ConfigureAwait(false);
                var tunnel = new Http1ResponseReader(stream, buffer);
                var answer = await tunnel.ReadHeadAsync(token).ConfigureAwait(false);
                if (answer.Status is < 200 or > 299)
                {
                    return new OperationOutcome(sent, 0, 0, RequestError.ConnectRefused, answer.Status, null);
                }

                if (tunnel.Buffered > 0)
                {
                    throw new HttpIOException(HttpRequestError.InvalidResponse, "the proxy sent bytes after its answer to CONNECT");
                }

                phases[ProxyConnect] = Stopwatch.GetTimestamp() - begun;
            }

            stage = TlsHandshake;
            begun = Stopwatch.GetTimestamp();
            var tls = new SslStream(stream, leaveInnerStreamOpen: false);
            stream = tls;
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = _tlsHost,
                ApplicationProtocols = Http11,
                RemoteCertificateValidationCallback = _validation,
            }, token).ConfigureAwait(false);
            phases[TlsHandshake] = Stopwatch.GetTimestamp() - begun;

            stage = FirstByte;
            begun = Stopwatch.GetTimestamp();
            await tls.WriteAsync(_getRequest, token).ConfigureAwait(false);
            var reader = new Http1ResponseReader(tls, buffer);
            var head = await reader.ReadHeadAsync(token).ConfigureAwait(false);
            phases[FirstByte] = reader.FirstByteTimestamp - begun;
            bytesDown = await reader.ReadBodyAsync(head, token).ConfigureAwait(false);
            phases[Total] = Stopwatch.GetTimestamp() - sent;
            if (head.Status is < 200 or > 299)
            {
                return new OperationOutcome(sent, bytesDown, 0, RequestError.HttpStatus, head.Status, null);
            }

            return bytesDown == ScenarioCatalog.SmallBytes
                ? new OperationOutcome(sent, bytesDown, 0, RequestError.None, head.Status, phases)
                : new OperationOutcome(sent, bytesDown, 0, RequestError.BodySize, head.Status, null);
        }
        catch (Exception exception) when (ErrorClassifier.IsRequestFailure(exception))
        {
            var error = ErrorClassifier.Classify(exception);
            if (stage == TlsHandshake && error is RequestError.Reset or RequestError.Other)
            {
                // A handshake the peer breaks off is a TLS failure, as HttpClient reports it (SecureConnectionError).
                error = RequestError.Tls;
            }

            return new OperationOutcome(sent, bytesDown, 0, error, 0, null);
        }
        finally
        {
            socket?.Dispose();
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose()
    {
    }
}
