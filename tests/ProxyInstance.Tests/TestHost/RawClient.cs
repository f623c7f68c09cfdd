using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EgressLab.ProxyInstance.Tests.TestHost;

/// <summary>A raw TCP client for sending exact bytes to the proxy and reading exact bytes back.</summary>
internal sealed class RawClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private RawClient(TcpClient client)
    {
        Client = client;
        Stream = client.GetStream();
    }

    public TcpClient Client { get; }
    public NetworkStream Stream { get; }

    /// <summary>Connects to <paramref name="endPoint"/>, from <paramref name="localAddress"/> when given (another loopback address is another client).</summary>
    public static async Task<RawClient> ConnectAsync(IPEndPoint endPoint, IPAddress? localAddress = null)
    {
        var client = localAddress is null
            ? new TcpClient(endPoint.AddressFamily) { NoDelay = true }
            : new TcpClient(new IPEndPoint(localAddress, 0)) { NoDelay = true };
        await client.ConnectAsync(endPoint, TestContext.Current.CancellationToken).AsTask().WaitAsync(Timeout);
        return new RawClient(client);
    }

    /// <summary>Opens a connection, sends <paramref name="request"/> and returns everything the proxy answers until it closes.</summary>
    public static async Task<string> ExchangeAsync(IPEndPoint endPoint, string request)
    {
        await using var client = await ConnectAsync(endPoint);
        await client.SendAsync(request);
        return Encoding.UTF8.GetString(await client.ReadToEndAsync());
    }

    public Task SendAsync(string text) => SendAsync(Encoding.ASCII.GetBytes(text));

    public async Task SendAsync(byte[] bytes) =>
        await Stream.WriteAsync(bytes, TestContext.Current.CancellationToken).AsTask().WaitAsync(Timeout);

    /// <summary>Reads a response head (up to the empty line) and returns it; the body stays unread.</summary>
    public async Task<string> ReadHeadAsync()
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await Stream.ReadAsync(one, TestContext.Current.CancellationToken).AsTask().WaitAsync(Timeout);
            if (read == 0)
            {
                break;
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    /// <summary>
    /// Reads the body that follows <paramref name="head"/>, framed by its Content-Length or chunked encoding, so
    /// the next response on a keep-alive connection can be read.
    /// </summary>
    public async Task<string> ReadBodyAsync(string head)
    {
        var fields = head.Split("\r\n").Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        if (fields.TryGetValue("Content-Length", out var length))
        {
            return Encoding.UTF8.GetString(await ReadExactlyAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (!fields.TryGetValue("Transfer-Encoding", out var coding) || !coding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"the response has no framing a keep-alive reader can follow:\n{head}");
        }

        var body = new StringBuilder();
        while (true)
        {
            var size = Convert.ToInt32((await ReadLineAsync()).Split(';')[0], 16);
            if (size == 0)
            {
                while ((await ReadLineAsync()).Length > 0)
                {
                }

                return body.ToString();
            }

            body.Append(Encoding.UTF8.GetString(await ReadExactlyAsync(size)));
            await ReadLineAsync();
        }
    }

    private async Task<string> ReadLineAsync()
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (!line.ToString().EndsWith("\r\n", StringComparison.Ordinal))
        {
            await Stream.ReadExactlyAsync(one, TestContext.Current.CancellationToken).AsTask().WaitAsync(Timeout);
            line.Append((char)one[0]);
        }

        return line.ToString(0, line.Length - 2);
    }

    /// <summary>Reads until the peer closes; returns everything read.</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        using var buffer = new MemoryStream();
        await Stream.CopyToAsync(buffer, TestContext.Current.CancellationToken).WaitAsync(Timeout);
        return buffer.ToArray();
    }

    public async Task<byte[]> ReadExactlyAsync(int count)
    {
        var data = new byte[count];
        await Stream.ReadExactlyAsync(data, TestContext.Current.CancellationToken).AsTask().WaitAsync(Timeout);
        return data;
    }

    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync();
        Client.Dispose();
    }
}
