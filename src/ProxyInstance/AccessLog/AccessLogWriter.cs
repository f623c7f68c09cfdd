using System.Text;
using System.Threading.Channels;
using EgressLab.ProxyInstance.Configuration;

namespace EgressLab.ProxyInstance.AccessLog;

/// <summary>
/// Writes access log lines on a background task so that requests never wait on disk. The queue is unbounded
/// on purpose: an access log that drops lines cannot be audited, and the writer outpaces any request rate.
/// It is disposed with the host, after the server has drained, so every line queued by the last request is
/// written before the file is closed.
/// </summary>
internal sealed partial class AccessLogWriter : IAsyncDisposable
{
    /// <summary>How long a batch gathers lines before it is written out.</summary>
    private static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(10);

    private readonly Channel<AccessLogEntry> _queue = Channel.CreateUnbounded<AccessLogEntry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly AccessLogFormat _format;
    private readonly string? _path;
    private readonly ILogger<AccessLogWriter> _logger;

    public AccessLogWriter(RuntimeSettingsStore settings, ILogger<AccessLogWriter> logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _format = settings.Current.AccessLogFormat;
        _path = settings.Current.AccessLogPath;
        _logger = logger;
        _loop = Task.Run(WriteLoopAsync);
    }

    private readonly Task _loop;

    public void Write(AccessLogEntry entry) => _queue.Writer.TryWrite(entry);

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    // No cancellation token: the loop ends when the queue is completed and drained, never earlier.
    private async Task WriteLoopAsync()
    {
        var writer = Open();
        var line = new StringBuilder(256);
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (Rotated(writer))
                {
                    await writer.DisposeAsync().ConfigureAwait(false);
                    writer = Open();
                }

                await DrainAsync(reader, writer, line).ConfigureAwait(false);

                // Under load the next lines are a moment away: gather them, so that the file gets one write per batch
                // rather than one per request. A line still reaches the file within BatchDelay of its request ending.
                await Task.Delay(BatchDelay, CancellationToken.None).ConfigureAwait(false);
                await DrainAsync(reader, writer, line).ConfigureAwait(false);
                try
                {
                    await writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (IOException ex)
                {
                    Log.WriteFailed(_logger, _path ?? "stdout", ex);
                }
            }
        }
        finally
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task DrainAsync(ChannelReader<AccessLogEntry> reader, StreamWriter writer, StringBuilder line)
    {
        while (reader.TryRead(out var entry))
        {
            line.Clear();
            if (_format == AccessLogFormat.Json)
            {
                line.Append(AccessLogFormatter.Format(entry, AccessLogFormat.Json));
            }
            else
            {
                AccessLogFormatter.WriteSquid(line, entry);
            }

            line.Append('\n');
            await writer.WriteAsync(line, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private StreamWriter Open()
    {
        Stream stream = _path is null
            ? Console.OpenStandardOutput()
            : new FileStream(_path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete });
        return new StreamWriter(stream, new UTF8Encoding(false), 64 * 1024) { AutoFlush = false };
    }

    /// <summary>
    /// Whether logrotate moved the file away (<c>create</c>) or emptied it (<c>copytruncate</c>) since the last batch.
    /// Writing on at the old offset would leave a run of NUL bytes, or write into the rotated file: reopen instead.
    /// Checked once per batch, not per line.
    /// </summary>
    private bool Rotated(StreamWriter writer)
    {
        if (_path is null || writer.BaseStream is not FileStream file)
        {
            return false;
        }

        var info = new FileInfo(_path);
        return !info.Exists || info.Length < file.Position;
    }

    private static partial class Log
    {
        [LoggerMessage(500, LogLevel.Error, "Writing the access log to {Path} failed")]
        public static partial void WriteFailed(ILogger logger, string path, Exception exception);
    }
}
