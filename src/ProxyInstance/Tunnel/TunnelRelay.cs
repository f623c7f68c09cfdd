using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace EgressLab.ProxyInstance.Tunnel;

/// <summary>How a tunnel's relay ended.</summary>
internal enum TunnelEnd
{
    /// <summary>Both sides closed their sending half.</summary>
    Closed,

    /// <summary>No byte moved in either direction for the idle timeout.</summary>
    IdleTimeout,

    /// <summary>The client reset or vanished.</summary>
    ClientFailed,

    /// <summary>The destination reset or vanished.</summary>
    UpstreamFailed,

    /// <summary>The proxy closed the tunnel (shutdown past the drain time).</summary>
    Aborted,
}

/// <param name="BytesSpliced">Of <paramref name="BytesDown"/>, the bytes moved with splice(2) and never copied into the process.</param>
internal readonly record struct RelayResult(long BytesUp, long BytesDown, TunnelEnd End, long BytesSpliced = 0);

/// <summary>
/// Copies bytes both ways until both sides have closed, honouring half-close: when one side sends FIN the
/// other side's sending half is shut down and the opposite direction keeps flowing.
/// </summary>
/// <remarks>
/// The destination-to-client direction waits with a zero-byte receive and rents its buffer only while data
/// is ready (reading again at once while reads fill it), so an idle tunnel holds no buffer; the client-to-destination direction sends straight from
/// Kestrel's pooled input pipe. Nothing is allocated per chunk.
/// </remarks>
/// <param name="splice">
/// Whether bulk downloads go from the destination to the client through a kernel pipe with splice(2), on Linux, when
/// the client's socket is at hand (<c>SpliceTunnels</c>); otherwise every byte is copied through a pooled buffer.
/// </param>
/// <param name="guard">For a plain-text HTTP tunnel, what holds each request to the CONNECT target; null relays every byte.</param>
/// <param name="refusal">
/// The response the client gets, after every response the destination sent, when <paramref name="guard"/> stops a request.
/// </param>
internal sealed class TunnelRelay(
    PipeReader clientInput, ClientSink clientSink, Socket upstream, TimeSpan idleTimeout, TimeProvider timeProvider,
    bool splice = false, TunnelHttpGuard? guard = null, Func<byte[]>? refusal = null)
{
    private const int BufferSize = 32 * 1024;

    private volatile bool _refused;
    private IdleWatchdog? _watchdog;
    private CancellationTokenSource? _stop;
    private long _bytesUp;
    private long _bytesDown;
    private long _bytesSpliced;
    private int _end = -1;

    public async Task<RelayResult> RunAsync(CancellationToken abort)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(abort);
        _stop = stop;
        var watchdog = new IdleWatchdog(idleTimeout, timeProvider, static relay => ((TunnelRelay)relay!).Fail(TunnelEnd.IdleTimeout), this);
        _watchdog = watchdog;
        try
        {
            var up = PumpUpAsync(stop);
            var down = PumpDownAsync(stop);
            await Task.WhenAll(up, down).ConfigureAwait(false);
        }
        finally
        {
            // Before the token source goes: a check running now may still cancel it.
            await watchdog.DisposeAsync().ConfigureAwait(false);
        }

        if (abort.IsCancellationRequested)
        {
            SetEnd(TunnelEnd.Aborted);
        }

        SetEnd(TunnelEnd.Closed);
        return new RelayResult(Interlocked.Read(ref _bytesUp), Interlocked.Read(ref _bytesDown), (TunnelEnd)_end, _bytesSpliced);
    }

    private async Task PumpUpAsync(CancellationTokenSource stop)
    {
        var token = stop.Token;
        try
        {
            while (true)
            {
                var result = await clientInput.ReadAsync(token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var refused = false;
                var forward = guard is null ? buffer : buffer.Slice(0, guard.Inspect(buffer, out refused));
                foreach (var segment in forward)
                {
                    await SendAllAsync(upstream, segment, token).ConfigureAwait(false);
                }

                Interlocked.Add(ref _bytesUp, forward.Length);
                if (!buffer.IsEmpty)
                {
                    Touch();
                }

                if (refused)
                {
                    // The destination finishes the responses it owes and closes; the refusal then follows them.
                    clientInput.AdvanceTo(buffer.End);
                    _refused = true;
                    break;
                }

                // A request head not yet whole waits in the pipe for its end.
                clientInput.AdvanceTo(forward.End, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            // The client sent FIN: pass it on and keep the other direction open.
            upstream.Shutdown(SocketShutdown.Send);
        }
        catch (ConnectionAbortedException) when (clientSink.ClosedConnection)
        {
            // The destination closed first and the sink could only close the whole connection (a tunnel on a connection
            // Kestrel served first), which ends the client's input this way: the tunnel is over, both sides closed.
        }
        catch (ConnectionAbortedException)
        {
            // Kestrel aborted the connection under the tunnel, as it does when the server stops past the drain time.
            Fail(TunnelEnd.Aborted, stop);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (SocketException)
        {
            Fail(TunnelEnd.UpstreamFailed, stop);
        }
        catch (ObjectDisposedException)
        {
            Fail(TunnelEnd.Aborted, stop);
        }
        catch (IOException)
        {
            // Kestrel reports a client reset on the input pipe as an IOException (ConnectionResetException).
            Fail(TunnelEnd.ClientFailed, stop);
        }
    }

    private async Task PumpDownAsync(CancellationTokenSource stop)
    {
        var token = stop.Token;
        var clientFailed = false;
        var streaming = false;
        try
        {
            while (true)
            {
                // After a short read the tunnel may go quiet: wait for data without a buffer. After a full one more is
                // most likely waiting already, and a wait first would only cost a system call per chunk.
                if (!streaming)
                {
                    await upstream.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, token).ConfigureAwait(false);
                }

                var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                try
                {
                    var read = await upstream.ReceiveAsync(buffer, SocketFlags.None, token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    clientFailed = true;
                    await clientSink.SendAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
                    clientFailed = false;
                    Interlocked.Add(ref _bytesDown, read);
                    Touch();
                    streaming = read == buffer.Length;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                if (streaming && splice && clientSink.Socket is { } client && SplicePipe.TryCreate() is { } pipe)
                {
                    // A bulk transfer: the rest of the burst goes through the kernel, not through this process.
                    using (pipe)
                    {
                        if (await SpliceBurstAsync(pipe, client, token).ConfigureAwait(false))
                        {
                            break;
                        }
                    }

                    streaming = false;
                }
            }

            // The destination sent FIN: pass it on and keep reading from the client.
            clientFailed = true;
            if (_refused && refusal is not null)
            {
                var response = refusal();
                await clientSink.SendAsync(response, token).ConfigureAwait(false);
                Interlocked.Add(ref _bytesDown, response.Length);
            }

            await clientSink.ShutdownSendAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (ClientSideException)
        {
            Fail(TunnelEnd.ClientFailed, stop);
        }
        catch (SocketException)
        {
            Fail(clientFailed ? TunnelEnd.ClientFailed : TunnelEnd.UpstreamFailed, stop);
        }
        catch (ObjectDisposedException)
        {
            Fail(TunnelEnd.Aborted, stop);
        }
        catch (IOException)
        {
            Fail(TunnelEnd.ClientFailed, stop);
        }
    }

    /// <summary>
    /// Splices the destination's bytes to the client until the destination has nothing more for now (the burst is over:
    /// the caller waits again without a buffer) or ends its stream, which it returns true for. When the client has no
    /// room the bytes in the pipe are copied out and sent the ordinary way, which waits for it. A failure from the
    /// client's side comes out as a <see cref="ClientSideException"/>.
    /// </summary>
    private async ValueTask<bool> SpliceBurstAsync(SplicePipe pipe, Socket client, CancellationToken token)
    {
        while (true)
        {
            token.ThrowIfCancellationRequested();
            var moved = pipe.Fill(upstream);
            if (moved <= 0)
            {
                return moved == 0;
            }

            try
            {
                while (pipe.Pending > 0)
                {
                    if (pipe.Drain(client) < 0)
                    {
                        await SendPendingAsync(pipe, token).ConfigureAwait(false);
                    }
                }
            }
            catch (Exception exception) when (exception is SocketException or IOException or ObjectDisposedException)
            {
                throw new ClientSideException(exception);
            }

            Interlocked.Add(ref _bytesDown, moved);
            _bytesSpliced += moved;
            Touch();
        }
    }

    private async ValueTask SendPendingAsync(SplicePipe pipe, CancellationToken token)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (pipe.Pending > 0)
            {
                var taken = pipe.TakePending(buffer);
                await clientSink.SendAsync(buffer.AsMemory(0, taken), token).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, token).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    private void Touch() => _watchdog!.Touch();

    private void SetEnd(TunnelEnd end) => Interlocked.CompareExchange(ref _end, (int)end, -1);

    private void Fail(TunnelEnd end) => Fail(end, _stop!);

    private void Fail(TunnelEnd end, CancellationTokenSource stop)
    {
        SetEnd(end);
        stop.Cancel();
    }

    /// <summary>A splice into the client failed: the tunnel ends as the client's failure, not the destination's.</summary>
    private sealed class ClientSideException(Exception inner) : Exception(inner.Message, inner);
}
