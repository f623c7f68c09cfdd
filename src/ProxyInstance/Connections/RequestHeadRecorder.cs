using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using EgressLab.ProxyInstance.Tunnel;

namespace EgressLab.ProxyInstance.Connections;

/// <summary>
/// Sits between a plain-HTTP connection and Kestrel and keeps the tail of the bytes Kestrel consumes
/// between two requests: what is left of the previous body, then the next request head. Kestrel rewrites a
/// request's Connection field to a bare <c>keep-alive</c> or <c>close</c> whenever either token is present,
/// so the names listed next to them are only found here, in the head as the client sent it.
/// </summary>
/// <remarks>
/// No second HTTP parser tracks body framing: Kestrel has consumed exactly the head when a request reaches
/// the application, so the head is the end of what was recorded. Read backwards from there, it is field lines
/// up to the line that ends with the request line Kestrel parsed (a field name contains no space, so that line
/// is never taken for a field). Recording stops
/// while the application runs, so request bodies are not copied, and only the last
/// <see cref="RequestHeadRecorder(PipeReader, int)">limit</see> bytes are kept.
/// See docs/decisions/0002-connection-nominated-headers.md.
/// </remarks>
internal sealed class RequestHeadRecorder : PipeReader, IDisposable
{
    private const int InitialCapacity = 2048;

    private readonly PipeReader _inner;
    private readonly int _limit;
    private ReadOnlySequence<byte> _lastRead;
    private byte[]? _buffer;
    private int _length;
    private volatile bool _recording = true;
    private volatile bool _handedOver;

    // The client's FIN arrived with bytes the reader has not looked at yet; see Deliver.
    private bool _endHeld;
    private bool _endDue;

    public RequestHeadRecorder(PipeReader inner, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 64);
        _inner = inner;
        _limit = limit;
    }

    /// <summary>
    /// Takes the connection's input away from Kestrel, for a CONNECT that arrived after other requests on the
    /// connection: the caller reads the raw input from here on (Kestrel has consumed exactly the CONNECT head,
    /// so pipelined tunnel bytes are still in it), and Kestrel reads end of input from now on, so it closes the
    /// connection once the request returns. Only valid while a request without a body is in the application,
    /// when Kestrel is not reading.
    /// </summary>
    public PipeReader HandOver()
    {
        _recording = false;
        _handedOver = true;
        return _inner;
    }

    /// <summary>
    /// Called when a request reaches the application: returns the names its Connection fields list
    /// (Proxy-Connection included), or null when the head was not found, and stops recording until
    /// <see cref="EndRequest"/>.
    /// </summary>
    public IReadOnlyList<string>? BeginRequest(string method, string rawTarget, string protocol)
    {
        _recording = false;
        var recorded = _buffer.AsSpan(0, _length);
        _length = 0;
        return FindConnectionTokens(recorded, method, rawTarget, protocol);
    }

    /// <summary>Called when the application is done with a request: record the next head.</summary>
    public void EndRequest()
    {
        _length = 0;
        _recording = true;
    }

    /// <summary>
    /// Reads the head at the end of <paramref name="recorded"/> backwards, field line by field line, up to the line
    /// that ends with <c>method SP target SP protocol</c> (what precedes it on that line is the rest of an earlier
    /// body), and returns every name its Connection and Proxy-Connection fields list; null when the bytes do not
    /// end with such a head.
    /// </summary>
    internal static IReadOnlyList<string>? FindConnectionTokens(ReadOnlySpan<byte> recorded, string method, string rawTarget, string protocol)
    {
        var lineLength = method.Length + rawTarget.Length + protocol.Length + 2;
        Span<byte> requestLine = lineLength <= 1024 ? stackalloc byte[lineLength] : new byte[lineLength];
        var written = Encoding.Latin1.GetBytes(method, requestLine);
        requestLine[written++] = (byte)' ';
        written += Encoding.Latin1.GetBytes(rawTarget, requestLine[written..]);
        requestLine[written++] = (byte)' ';
        Encoding.Latin1.GetBytes(protocol, requestLine[written..]);

        // The head ends with an empty line.
        var rest = recorded;
        if (!TryTakeLastLine(ref rest, out var last) || !last.IsEmpty)
        {
            return null;
        }

        List<string>? names = null;
        while (TryTakeLastLine(ref rest, out var line))
        {
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || !ConnectRequestParser.IsToken(line[..colon]))
            {
                if (!line.EndsWith(requestLine))
                {
                    return null;
                }

                // Collected from the last field up: put them back in the order they were sent.
                names?.Reverse();
                return names ?? (IReadOnlyList<string>)[];
            }

            var name = line[..colon];
            if (!Ascii.EqualsIgnoreCase(name, "Connection"u8) && !Ascii.EqualsIgnoreCase(name, "Proxy-Connection"u8))
            {
                continue;
            }

            var value = line[(colon + 1)..];
            var found = new List<string>();
            foreach (var range in value.Split((byte)','))
            {
                var token = value[range].Trim(" \t"u8);
                // A list member that is not a field name cannot name a header; skip it rather than fail the request.
                if (ConnectRequestParser.IsToken(token))
                {
                    found.Add(Encoding.Latin1.GetString(token));
                }
            }

            found.Reverse();
            (names ??= []).AddRange(found);
        }

        return null;
    }

    /// <summary>Takes the last LF- (or CRLF-) terminated line off the end of <paramref name="span"/>, without its terminator.</summary>
    private static bool TryTakeLastLine(ref ReadOnlySpan<byte> span, out ReadOnlySpan<byte> line)
    {
        if (span.IsEmpty || span[^1] != (byte)'\n')
        {
            line = default;
            return false;
        }

        var body = span[..^1];
        var start = body.LastIndexOf((byte)'\n') + 1;
        line = body[start..];
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        span = span[..start];
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed)
    {
        if (_handedOver)
        {
            return;
        }

        Record(consumed);
        NoteExamined(consumed);
        _inner.AdvanceTo(consumed);
    }

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (_handedOver)
        {
            return;
        }

        Record(consumed);
        NoteExamined(examined);
        _inner.AdvanceTo(consumed, examined);
    }

    // After the hand-over the tunnel owns the reads; Kestrel's wake-up on shutdown must not cancel them.
    public override void CancelPendingRead()
    {
        if (!_handedOver)
        {
            _inner.CancelPendingRead();
        }
    }

    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_handedOver)
        {
            return new ValueTask<ReadResult>(new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true));
        }

        var pending = _inner.ReadAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            return new ValueTask<ReadResult>(Deliver(pending.Result));
        }

        return AwaitRead(pending);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (_handedOver)
        {
            result = new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true);
            return true;
        }

        if (!_inner.TryRead(out result))
        {
            return false;
        }

        result = Deliver(result);
        return true;
    }

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Pooled: a keep-alive connection waits here for each of its requests, one read at a time.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> AwaitRead(ValueTask<ReadResult> pending)
    {
        return Deliver(await pending.ConfigureAwait(false));
    }

    /// <summary>
    /// Hands a read to Kestrel, holding back the end of input while the reader has not yet looked at every byte that
    /// came with it. Kestrel fails a request body whose last bytes arrive in the same read as the client's FIN
    /// ("Unexpected end of request content"), although the body is whole: a client that sends its request and then
    /// half-closes (RFC 9112 §9.6) would lose a complete request. Once the reader has examined everything and reads
    /// again, the end is reported, so a truly cut request still fails and no reader waits for bytes that cannot come.
    /// </summary>
    private ReadResult Deliver(ReadResult result)
    {
        _lastRead = result.Buffer;
        if (!result.IsCompleted || result.Buffer.IsEmpty || result.IsCanceled || _endDue)
        {
            return result;
        }

        _endHeld = true;
        return new ReadResult(result.Buffer, isCanceled: false, isCompleted: false);
    }

    private void NoteExamined(SequencePosition examined)
    {
        if (_endHeld && _lastRead.Slice(examined).IsEmpty)
        {
            _endDue = true;
        }
    }

    private void Record(SequencePosition consumed)
    {
        if (!_recording)
        {
            return;
        }

        var data = _lastRead.Slice(_lastRead.Start, consumed);
        var count = data.Length;
        if (count == 0)
        {
            return;
        }

        if (count >= _limit)
        {
            data = data.Slice(count - _limit);
            count = _limit;
            _length = 0;
        }

        var needed = _length + (int)count;
        if (needed > _limit)
        {
            // Keep only the newest bytes: slide the tail of what is recorded to the front.
            var keep = _limit - (int)count;
            _buffer.AsSpan(_length - keep, keep).CopyTo(_buffer);
            _length = keep;
            needed = _limit;
        }

        Reserve(needed);
        data.CopyTo(_buffer.AsSpan(_length));
        _length = needed;
    }

    private void Reserve(int needed)
    {
        if (_buffer is not null && _buffer.Length >= needed)
        {
            return;
        }

        var grown = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Max(needed, Math.Max(InitialCapacity, (_buffer?.Length ?? 0) * 2)), _limit));
        if (_buffer is { } old)
        {
            old.AsSpan(0, _length).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(old);
        }

        _buffer = grown;
    }
}
