using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using EgressLab.ProxyInstance.AccessLog;
using EgressLab.ProxyInstance.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace EgressLab.ProxyInstance.Tests.AccessLog;

public sealed class AccessLogWriterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Write_LinesReachTheStream_NeverFromAThreadPoolThread()
    {
        var stream = new RecordingStream();
        var writer = new AccessLogWriter(AccessLogFormat.Squid, null, () => stream, NullLogger<AccessLogWriter>.Instance);
        try
        {
            writer.Write(Entry("one.example.com:443"));
            await WaitForLinesAsync(stream, 1);
            writer.Write(Entry("two.example.com:443"));
            writer.Write(Entry("three.example.com:443"));
            await WaitForLinesAsync(stream, 3);
        }
        finally
        {
            await writer.DisposeAsync();
        }

        Assert.Equal(["one.example.com:443", "two.example.com:443", "three.example.com:443"], stream.Targets());

        // The pool is what the writer stays off: a batch written from it cost several pool items and thread switches.
        Assert.NotEmpty(stream.Calls);
        Assert.All(stream.Calls, call => Assert.False(call.OnPoolThread, $"{call.Name} ran on a thread-pool thread"));
    }

    [Fact]
    public async Task Write_Burst_IsWrittenInFewBatches()
    {
        var stream = new RecordingStream();
        var writer = new AccessLogWriter(AccessLogFormat.Squid, null, () => stream, NullLogger<AccessLogWriter>.Instance);
        try
        {
            for (var i = 0; i < 200; i++)
            {
                writer.Write(Entry($"host{i}.example.com:443"));
            }

            await WaitForLinesAsync(stream, 200);
        }
        finally
        {
            await writer.DisposeAsync();
        }

        Assert.Equal(200, stream.Targets().Count);

        // One write per batch, not one per line: the 200 lines were queued at once, well within the batch delay, so they
        // reach the stream in one write, or a few if this thread was held up while it queued them.
        Assert.InRange(stream.Calls.Count(c => c.Name == "Write"), 1, 3);
    }

    [Fact]
    public async Task DisposeAsync_WritesEveryLineQueuedBeforeIt_ThenClosesTheStream()
    {
        var stream = new RecordingStream();
        var writer = new AccessLogWriter(AccessLogFormat.Squid, null, () => stream, NullLogger<AccessLogWriter>.Instance);
        for (var i = 0; i < 50; i++)
        {
            writer.Write(Entry($"host{i}.example.com:443"));
        }

        await writer.DisposeAsync().AsTask().WaitAsync(Patience, TestContext.Current.CancellationToken);

        Assert.Equal(50, stream.Targets().Count);
        Assert.True(stream.Closed);

        // A request that ends after the host has stopped its writer loses its line, and nothing throws.
        writer.Write(Entry("late.example.com:443"));
    }

    private static AccessLogEntry Entry(string target)
    {
        var entry = AccessLogEntry.ForTunnel(DateTimeOffset.UnixEpoch, Stopwatch.GetTimestamp(), IPAddress.Loopback, target);
        entry.Status = 200;
        return entry;
    }

    private static async Task WaitForLinesAsync(RecordingStream stream, int count)
    {
        var deadline = Stopwatch.StartNew();
        while (stream.Targets().Count < count)
        {
            Assert.True(deadline.Elapsed < Patience, $"only {stream.Targets().Count} of {count} lines were written within {Patience.TotalSeconds} s");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>A stream that keeps what is written and on which kind of thread each write and flush ran.</summary>
    private sealed class RecordingStream : Stream
    {
        private readonly MemoryStream _content = new();
        private readonly Lock _gate = new();

        public ConcurrentQueue<(string Name, bool OnPoolThread)> Calls { get; } = new();

        public bool Closed { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>The target field (the seventh) of each whole line written so far.</summary>
        public List<string> Targets()
        {
            string text;
            lock (_gate)
            {
                text = Encoding.UTF8.GetString(_content.ToArray());
            }

            return [.. text.Split('\n').SkipLast(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[6])];
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Calls.Enqueue(("Write", Thread.CurrentThread.IsThreadPoolThread));
            lock (_gate)
            {
                _content.Write(buffer);
            }
        }

        public override void Flush() => Calls.Enqueue(("Flush", Thread.CurrentThread.IsThreadPoolThread));

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Flush();
            return Task.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            Closed = true;
            base.Dispose(disposing);
        }
    }
}
