using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Robustness;

/// <summary>
/// One TLS session to an origin through one CONNECT tunnel, kept open and used for many HTTP/1.1 requests in turn,
/// as a long-lived client would. Any failure of the tunnel surfaces as an exception from <see cref="GetAsync"/>.
/// </summary>
internal sealed class TlsTunnelClient : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly Socket _socket;
    private readonly SslStream _tls;
    private readonly BufferedStream _stream;
    private readonly string _authority;

    private TlsTunnelClient(Socket socket, SslStream tls, string authority)
    {
        _socket = socket;
        _tls = tls;
        _stream = new BufferedStream(tls, 16 * 1024);
        _authority = authority;
    }

    /// <summary>Opens the tunnel (expecting <c>200</c>) and completes the TLS handshake with <paramref name="host"/>.</summary>
    public static async Task<TlsTunnelClient> OpenAsync(IPEndPoint proxy, string host, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(proxy.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        TlsTunnelClient? opened = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            await socket.ConnectAsync(proxy, timeout.Token);
            var network = new NetworkStream(socket, ownsSocket: false);
            var authority = $"{host}:{port.ToString(CultureInfo.InvariantCulture)}";
            await network.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"), timeout.Token);
            var head = await ReadHeadAsync(network, timeout.Token);
            if (!head.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal))
            {
                throw new IOException($"CONNECT {authority} was answered: {head.Split("\r\n")[0]}");
            }

            var tls = new SslStream(network, leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    TestCertificates.Validate(certificate as System.Security.Cryptography.X509Certificates.X509Certificate2),
            }, timeout.Token);
            opened = new TlsTunnelClient(socket, tls, authority);
            return opened;
        }
        finally
        {
            if (opened is null)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>Sends one keep-alive GET and returns the status and the whole body.</summary>
    public async Task<(int Status, byte[] Body)> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        var token = timeout.Token;
        var head = await SendAndReadHeadAsync(path, token);
        var lines = head.Split("\r\n");
        var statusLine = lines[0].Split(' ');
        if (statusLine.Length < 2 || !int.TryParse(statusLine[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new IOException($"not an HTTP response: '{lines[0]}'");
        }

        var fields = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        if (fields.TryGetValue("Content-Length", out var length))
        {
            var body = new byte[int.Parse(length, CultureInfo.InvariantCulture)];
            await _stream.ReadExactlyAsync(body, token);
            return (status, body);
        }

        if (!fields.TryGetValue("Transfer-Encoding", out var coding) || !coding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException($"the response has no framing a keep-alive reader can follow:\n{head}");
        }

        using var chunked = new MemoryStream();
        while (true)
        {
            var size = Convert.ToInt32((await ReadLineAsync(_stream, token)).Split(';')[0], 16);
            if (size == 0)
            {
                while ((await ReadLineAsync(_stream, token)).Length > 0)
                {
                }

                return (status, chunked.ToArray());
            }

            var chunk = new byte[size];
            await _stream.ReadExactlyAsync(chunk, token);
            chunked.Write(chunk);
            await ReadLineAsync(_stream, token);
        }
    }

    /// <summary>Sends one GET and reads only the response head, leaving the body unread (to vanish mid-response).</summary>
    public async Task<string> SendAndReadHeadAsync(string path, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        // Written straight to the TLS stream: the buffered stream is for reading only, so it never holds unsent bytes.
        await _tls.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {_authority}\r\n\r\n"), timeout.Token);
        return await ReadHeadAsync(_stream, timeout.Token);
    }

    /// <summary>Drops the connection with a reset, as a client that crashes or loses its network would.</summary>
    public void Abort()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Dispose();
    }

    private static async Task<string> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (head.Length < 4 || head[^1] != '\n' || head[^2] != '\r' || head[^3] != '\n' || head[^4] != '\r')
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
            {
                throw new EndOfStreamException($"the connection closed after {head.Length} bytes of a response head");
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    private static async Task<string> ReadLineAsync(Stream stream, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (line.Length < 2 || line[^1] != '\n' || line[^2] != '\r')
        {
            await stream.ReadExactlyAsync(one, cancellationToken);
            line.Append((char)one[0]);
        }

        return line.ToString(0, line.Length - 2);
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
