namespace EgressLab.ProxyInstance.Forwarding;

/// <summary>
/// The client's request body as the forwarder reads it, with an idle limit: a read that waits longer than the
/// timeout for the client's next bytes fails, and <see cref="TimedOut"/> says so. YARP turns off Kestrel's minimum
/// request body data rate for forwarded requests, so without this a client that stops in the middle of its body holds
/// its connection, an upstream connection and the origin's worker until the upstream activity timeout.
/// </summary>
/// <remarks>
/// A stall fails the read with a <see cref="TimeoutException"/>, not an <see cref="OperationCanceledException"/>: the
/// forwarder then reports a client-side body error and aborts the upstream request, so the origin never receives the
/// request complete. One cancellation source serves every read of the body; it is made on the first read, as most
/// requests have no body.
/// </remarks>
internal sealed class RequestBodyTimeoutStream(Stream inner, TimeSpan idleTimeout, TimeProvider timeProvider) : Stream
{
    private CancellationTokenSource? _idle;

    /// <summary>Whether a read failed because no byte arrived within the idle timeout.</summary>
    public bool TimedOut { get; private set; }

    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_idle is null || _idle.IsCancellationRequested)
        {
            // A timer that fired just as the previous read completed: that read was in time, start afresh.
            _idle?.Dispose();
            _idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider);
        }

        var idle = _idle;
        idle.CancelAfter(idleTimeout);
        using var link = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), idle);
        try
        {
            return await inner.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && idle.IsCancellationRequested)
        {
            TimedOut = true;
            throw new TimeoutException($"no byte of the request body arrived for {idleTimeout.TotalSeconds:0.###} s");
        }
        finally
        {
            idle.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Kestrel refuses synchronous reads unless AllowSynchronousIO is set, which the proxy never sets.
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _idle?.Dispose();
            _idle = null;
        }

        base.Dispose(disposing);
    }
}
