using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EgressLab.ProxyInstance.Tests.Robustness;

/// <summary>How a <see cref="FaultOrigin"/> frames the start of a response body it never finishes.</summary>
public enum BodyFraming
{
    ContentLength,
    Chunked,
    CloseDelimited,
}

/// <summary>
/// A loopback origin on raw sockets that commits the same fault on every connection it accepts: the faults a
/// well-behaved HTTP server cannot be made to commit (a reset before or in the middle of a response, silence,
/// bytes that are not HTTP). It counts the connections it accepted and the ones whose peer, the proxy, closed
/// them, so a test can prove that the proxy let go of every upstream connection.
/// </summary>
internal sealed class FaultOrigin : IAsyncDisposable
{
    /// <summary>The body length the mid-body faults announce.</summary>
    public const int DeclaredLength = 100_000;

    /// <summary>How much of the body the mid-body faults send before they fail.</summary>
    public const int SentLength = 1000;

    private const int MaxHeadBytes = 64 * 1024;

    // Bounds every connection, so that a proxy that never lets go cannot keep a handler, or the run, alive.
    private static readonly TimeSpan HandlerLimit = TimeSpan.FromSeconds(60);

    private readonly TcpListener _listener;
    private readonly Func<FaultOrigin, Socket, CancellationToken, Task> _fault;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<Task> _handlers = new();
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _requests;
    private int _closedByPeer;

    private FaultOrigin(Func<FaultOrigin, Socket, CancellationToken, Task> fault)
    {
        _fault = fault;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Request heads read in full: from then on the proxy is waiting for the answer.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Connections on which the origin, while still holding them open, saw the proxy's FIN or reset.</summary>
    public int ClosedByPeer => Volatile.Read(ref _closedByPeer);

    /// <summary>Reads the request head, then resets the connection without a byte of answer.</summary>
    public static FaultOrigin ResetBeforeAnswer() => new(static async (origin, socket, token) =>
    {
        await origin.ReadHeadAsync(socket, token);
        Reset(socket);
    });

    /// <summary>Reads the request head and never answers; holds the connection until the proxy closes it.</summary>
    public static FaultOrigin Silent() => new(static async (origin, socket, token) =>
    {
        await origin.ReadHeadAsync(socket, token);
        await origin.HoldUntilPeerClosesAsync(socket, token);
    });

    /// <summary>Answers <paramref name="answer"/>, which is not valid HTTP, and holds the connection until the proxy closes it.</summary>
    public static FaultOrigin Garbage(byte[] answer) => new(async (origin, socket, token) =>
    {
        await origin.ReadHeadAsync(socket, token);
        await SendAsync(socket, answer, token);
        await origin.HoldUntilPeerClosesAsync(socket, token);
    });

    /// <summary>Sends a head and <see cref="SentLength"/> bytes of a longer body, then resets the connection.</summary>
    public static FaultOrigin ResetMidBody(BodyFraming framing) => new(async (origin, socket, token) =>
    {
        await origin.ReadHeadAsync(socket, token);
        await SendAsync(socket, PartialResponse(framing), token);
        Reset(socket);
    });

    /// <summary>Sends a head and <see cref="SentLength"/> bytes of a longer body, then stalls until the proxy closes the connection.</summary>
    public static FaultOrigin StallMidBody(BodyFraming framing) => new(async (origin, socket, token) =>
    {
        await origin.ReadHeadAsync(socket, token);
        await SendAsync(socket, PartialResponse(framing), token);
        await origin.HoldUntilPeerClosesAsync(socket, token);
    });

    /// <summary>A tunnel destination that reads "ping", answers "pong" and resets the connection.</summary>
    public static FaultOrigin ResetMidTunnel() => new(static async (origin, socket, token) =>
    {
        var ping = new byte[4];
        await socket.ReceiveAsync(ping, SocketFlags.None, token);
        await SendAsync(socket, "pong"u8.ToArray(), token);
        Reset(socket);
    });

    /// <summary>A tunnel destination that echoes what it reads until the proxy closes the connection.</summary>
    public static FaultOrigin Echo() => new(static async (origin, socket, token) =>
    {
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, token)) > 0)
            {
                await SendAsync(socket, buffer.AsMemory(0, read), token);
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
        {
        }

        Interlocked.Increment(ref origin._closedByPeer);
    });

    /// <summary>
    /// A tunnel destination that sends without pause: when the client is gone, only the proxy closing this
    /// connection stops it, which shows up here as a failed send.
    /// </summary>
    public static FaultOrigin Flood() => new(static async (origin, socket, token) =>
    {
        var chunk = new byte[16 * 1024];
        try
        {
            while (true)
            {
                await SendAsync(socket, chunk, token);
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
        {
            Interlocked.Increment(ref origin._closedByPeer);
        }
    });

    /// <summary>Waits until the proxy has closed <paramref name="count"/> of the connections this origin held open.</summary>
    public async Task WaitForClosedByPeerAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (ClosedByPeer < count)
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"the proxy closed {ClosedByPeer} of the {count} upstream connections the origin held ({Accepted} accepted) within {timeout}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop.WaitAsync(TimeSpan.FromSeconds(10));

        // Awaiting the handlers observes anything they threw: a failure here is a bug in the fault, not the proxy.
        await Task.WhenAll(_handlers).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            _handlers.Enqueue(HandleAsync(socket));
        }
    }

    private async Task HandleAsync(Socket socket)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        limit.CancelAfter(HandlerLimit);
        try
        {
            await Task.Yield();
            await _fault(this, socket, limit.Token);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
        {
            // The proxy gave up before the fault was complete, a legitimate reaction to some faults: it let go.
            Interlocked.Increment(ref _closedByPeer);
        }
        finally
        {
            socket.Dispose();
        }
    }

    private async Task HoldUntilPeerClosesAsync(Socket socket, CancellationToken token)
    {
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, token) > 0)
            {
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
        }

        Interlocked.Increment(ref _closedByPeer);
    }

    private async Task ReadHeadAsync(Socket socket, CancellationToken token)
    {
        var head = new byte[MaxHeadBytes];
        var length = 0;
        while (head.AsSpan(0, length).IndexOf("\r\n\r\n"u8) < 0)
        {
            var read = await socket.ReceiveAsync(head.AsMemory(length), SocketFlags.None, token);
            if (read == 0)
            {
                throw new SocketException((int)SocketError.Shutdown);
            }

            length += read;
        }

        Interlocked.Increment(ref _requests);
    }

    private static async Task SendAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        while (!data.IsEmpty)
        {
            data = data[await socket.SendAsync(data, SocketFlags.None, token)..];
        }
    }

    /// <summary>RST instead of FIN: linger on, with a zero timeout, makes close abortive.</summary>
    private static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    /// <summary>A response head and the first <see cref="SentLength"/> bytes of its body, in one segment.</summary>
    private static byte[] PartialResponse(BodyFraming framing)
    {
        var body = new string('x', SentLength);
        var text = framing switch
        {
            BodyFraming.ContentLength => $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {DeclaredLength}\r\n\r\n{body}",
            BodyFraming.Chunked => $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n{SentLength:x}\r\n{body}\r\n",
            _ => $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n{body}",
        };
        return Encoding.ASCII.GetBytes(text);
    }
}
