using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EgressLab.LoadTests.Tests.TestHost;

/// <summary>
/// A loopback TCP server that answers every HTTP/1.1 request head on a connection with 204 and keeps the
/// connection open until the client closes it: a target for many idle tunnels. It counts the connections it
/// accepted, the requests it answered and the connections the client closed.
/// </summary>
internal sealed class AnsweringServer : IAsyncDisposable
{
    private static readonly byte[] Answer = Encoding.ASCII.GetBytes("HTTP/1.1 204 No Content\r\nServer: answering\r\n\r\n");
    private static readonly TimeSpan ConnectionLimit = TimeSpan.FromMinutes(2);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;
    private int _accepted;
    private int _answered;
    private int _closed;

    public AnsweringServer()
    {
        _listener.Start(backlog: 1024);
        _accepting = AcceptAsync(_stop.Token);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public int Accepted => Volatile.Read(ref _accepted);
    public int Answered => Volatile.Read(ref _answered);

    /// <summary>Connections the client closed (or reset).</summary>
    public int Closed => Volatile.Read(ref _closed);

    /// <summary>Waits (bounded) until <paramref name="count"/> connections have been closed by their clients, and returns how many have.</summary>
    public async Task<int> WaitForClosedAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Closed < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        return Closed;
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(cancellationToken);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            lock (_connections)
            {
                _connections.Add(ServeAsync(socket, cancellationToken));
            }
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(ConnectionLimit);
        var buffer = new byte[4096];
        var filled = 0;
        using (socket)
        {
            try
            {
                while (true)
                {
                    var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, limit.Token);
                    if (read == 0)
                    {
                        break;
                    }

                    filled += read;
                    int end;
                    while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) >= 0)
                    {
                        await socket.SendAsync(Answer, SocketFlags.None, limit.Token);
                        Interlocked.Increment(ref _answered);
                        buffer.AsSpan(end + 4, filled - end - 4).CopyTo(buffer);
                        filled -= end + 4;
                    }

                    if (filled == buffer.Length)
                    {
                        return;
                    }
                }
            }
            catch (SocketException)
            {
                // A reset is the client closing too.
            }
            catch (OperationCanceledException)
            {
                // The server stopped, or the connection outlived its limit: not a close by the client.
                return;
            }

            Interlocked.Increment(ref _closed);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.WaitAsync(TimeSpan.FromSeconds(10));
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
