using System.Collections.Concurrent;
using System.Text;
using EgressLab.ProxyInstance.Configuration;

namespace EgressLab.ProxyInstance.AccessLog;

/// <summary>
/// Writes access log lines on a thread of its own so that requests never wait on disk. The queue is unbounded on
/// purpose: an access log that drops lines cannot be audited, and the writer outpaces any request rate. It is disposed
/// with the host, after the server has drained, so every line queued by the last request is written before the file
/// is closed.
/// </summary>
/// <remarks>
/// Not the thread pool: a batch written from it cost a timer-thread wake for the delay, pool items for the wait, the
/// delay and the file write, and a second worker woken for each item, about eight thread switches a batch. Its own
/// thread sleeps through the batch delay and writes synchronously: one wake a batch under load. A request signals the
/// thread only when no signal is pending, and that costs a system call only when the thread is waiting for lines.
/// </remarks>
internal sealed partial class AccessLogWriter : IAsyncDisposable
{
    /// <summary>How long a batch gathers lines before it is written out.</summary>
    private static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(10);

    private readonly ConcurrentQueue<AccessLogEntry> _queue = new();

    // No spinning: the writer waits for lines far longer than a spin lasts.
    private readonly ManualResetEventSlim _pending = new(false, spinCount: 0);
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly AccessLogFormat _format;
    private readonly string? _path;
    private readonly Func<Stream> _open;
    private readonly ILogger<AccessLogWriter> _logger;
    private volatile bool _completing;

    public AccessLogWriter(RuntimeSettingsStore settings, ILogger<AccessLogWriter> logger)
        : this(Settings(settings), logger)
    {
    }

    private AccessLogWriter(RuntimeSettings settings, ILogger<AccessLogWriter> logger)
        : this(settings.AccessLogFormat, settings.AccessLogPath, null, logger)
    {
    }

    /// <param name="open">Opens the stream lines go to; null opens <paramref name="path"/>, or standard output when that is null.</param>
    internal AccessLogWriter(AccessLogFormat format, string? path, Func<Stream>? open, ILogger<AccessLogWriter> logger)
    {
        _format = format;
        _path = path;
        _open = open ?? OpenPath;
        _logger = logger;
        new Thread(Run) { IsBackground = true, Name = "access log" }.Start();
    }

    public void Write(AccessLogEntry entry)
    {
        _queue.Enqueue(entry);
        if (!_pending.IsSet)
        {
            _pending.Set();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _completing = true;
        _pending.Set();
        // The event is not disposed: a request still finishing may signal it, and without a wait handle it holds nothing.
        await _finished.Task.ConfigureAwait(false);
    }

    private static RuntimeSettings Settings(RuntimeSettingsStore settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Current;
    }

    private void Run()
    {
        try
        {
            WriteUntilCompleted();
            _finished.SetResult();
        }
        catch (Exception ex)
        {
            _finished.SetException(ex);
        }
    }

    // Ends when disposal has begun and every line queued before it is written, never earlier.
    private void WriteUntilCompleted()
    {
        var writer = Open();
        var line = new StringBuilder(256);
        try
        {
            while (true)
            {
                _pending.Wait();
                if (Rotated(writer))
                {
                    writer.Dispose();
                    writer = Open();
                }

                if (!_completing)
                {
                    // Under load the next lines are a moment away: gather them, so that the file gets one write per
                    // batch rather than one per request. A line reaches the file within BatchDelay of its request ending.
                    Thread.Sleep(BatchDelay);
                }

                // Reset after the gathering, not before it: lines queued while it slept are drained now and leave no
                // signal behind for an empty batch. A line queued from here on sets the event for the next batch. Read
                // after the reset, so that a disposal whose signal it cleared is still seen.
                _pending.Reset();
                var last = _completing;
                Drain(writer, line);
                try
                {
                    writer.Flush();
                }
                catch (IOException ex)
                {
                    Log.WriteFailed(_logger, _path ?? "stdout", ex);
                }

                // A line queued after disposal began and before the drain is written; none can come later.
                if (last)
                {
                    return;
                }
            }
        }
        finally
        {
            writer.Dispose();
        }
    }

    private void Drain(StreamWriter writer, StringBuilder line)
    {
        while (_queue.TryDequeue(out var entry))
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
            writer.Write(line);
        }
    }

    private StreamWriter Open() => new(_open(), new UTF8Encoding(false), 64 * 1024) { AutoFlush = false };

    private Stream OpenPath() => _path is null
        ? Console.OpenStandardOutput()
        : new FileStream(_path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete });

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
