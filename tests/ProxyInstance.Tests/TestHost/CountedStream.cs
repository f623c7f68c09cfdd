using System.Net.Sockets;

namespace EgressLab.ProxyInstance.Tests.TestHost;

/// <summary>
/// A client's side of a connection through the proxy, once the proxy's own answer (a 101, a 200 for a tunnel) has
/// been read: counts what the client reads and writes from then on, to hold the access log's bytes against. With
/// <see cref="KeepOpen"/>, disposing it (as a WebSocket does once its close handshake is done) leaves the
/// connection open, so the test can wait for the other side to close it first.
/// </summary>
internal sealed class CountedStream(NetworkStream inner) : Stream
{
    public long BytesRead { get; private set; }
    public long BytesWritten { get; private set; }
    public bool KeepOpen { get; set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        BytesRead += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken);
        BytesWritten += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reads, counting, until the other side closes; bounded by <see cref="RawClient.Timeout"/>.</summary>
    public async Task ReadToEndAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (await ReadAsync(buffer, cancellationToken).AsTask().WaitAsync(RawClient.Timeout, cancellationToken) > 0)
        {
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !KeepOpen)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
