using System.IO.Pipelines;

namespace EgressLab.ProxyInstance.Connections;

/// <summary>
/// Kestrel's view of a plain-HTTP connection's output. It passes every write through until
/// <see cref="Detach"/>; from then on the caller owns the real output and what Kestrel still writes (the
/// response it makes for a request whose connection was handed over to a tunnel) goes nowhere.
/// </summary>
internal sealed class DetachableOutput(PipeWriter inner) : PipeWriter
{
    private volatile bool _detached;
    private byte[]? _scratch;

    /// <summary>Stops passing Kestrel's writes through and returns the real output.</summary>
    public PipeWriter Detach()
    {
        _detached = true;
        return inner;
    }

    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => _detached ? 0 : inner.UnflushedBytes;

    public override void Advance(int bytes)
    {
        if (!_detached)
        {
            inner.Advance(bytes);
        }
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => _detached ? Scratch(sizeHint) : inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _detached ? Scratch(sizeHint).Span : inner.GetSpan(sizeHint);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    // Completing is passed through even when detached: it is how the connection ends once the tunnel is done.
    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    // A completed flush result would tell Kestrel the client is gone, and Kestrel would abort the connection.
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => _detached
        ? new ValueTask<FlushResult>(default(FlushResult))
        : inner.FlushAsync(cancellationToken);

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) => _detached
        ? new ValueTask<FlushResult>(default(FlushResult))
        : inner.WriteAsync(source, cancellationToken);

    private Memory<byte> Scratch(int sizeHint)
    {
        if (_scratch is null || _scratch.Length < sizeHint)
        {
            _scratch = new byte[Math.Max(sizeHint, 4096)];
        }

        return _scratch;
    }
}
