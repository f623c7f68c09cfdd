using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Http;
using System.Text;

namespace EgressLab.LoadTests.Scenarios;

/// <summary>The status and framing of an HTTP/1.1 response head.</summary>
/// <param name="ContentLength">The Content-Length, or −1 when none was sent.</param>
internal readonly record struct ResponseHead(int Status, long ContentLength, bool Chunked);

/// <summary>
/// Reads an HTTP/1.1 response (RFC 9112) from a raw stream into a caller's (pooled) buffer: the head, then the body
/// counted and discarded, framed by Content-Length, chunked coding or the end of the connection. Enough for the
/// origin and proxy responses a load test meets; a head that does not fit the buffer is refused.
/// </summary>
internal sealed class Http1ResponseReader(Stream stream, byte[] buffer)
{
    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;
    private static ReadOnlySpan<byte> LineEnd => Http1Head.LineEnd;

    private int _start;
    private int _end;
    private (int Start, int Length) _lastLine;

    /// <summary>Stopwatch timestamp of the first byte received, 0 until then.</summary>
    public long FirstByteTimestamp { get; private set; }

    /// <summary>Bytes read past what has been consumed.</summary>
    public int Buffered => _end - _start;

    public async ValueTask<ResponseHead> ReadHeadAsync(CancellationToken cancellationToken)
    {
        int headLength;
        while ((headLength = buffer.AsSpan(_start, _end - _start).IndexOf(HeadEnd)) < 0)
        {
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }

        var head = ParseHead(buffer.AsSpan(_start, headLength + 2));
        _start += headLength + HeadEnd.Length;
        return head;
    }

    /// <summary>Reads the body to its end and returns its length in bytes (after any chunked coding is removed).</summary>
    public async ValueTask<long> ReadBodyAsync(ResponseHead head, CancellationToken cancellationToken)
    {
        if (head.Chunked)
        {
            return await ReadChunkedAsync(cancellationToken).ConfigureAwait(false);
        }

        if (head.ContentLength >= 0)
        {
            await SkipAsync(head.ContentLength, cancellationToken).ConfigureAwait(false);
            return head.ContentLength;
        }

        // RFC 9112 §6.3: without either, the body runs to the end of the connection.
        long total = Buffered;
        _start = _end = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
        }

        return total;
    }

    private async ValueTask<long> ReadChunkedAsync(CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            var size = ParseChunkSize(await ReadLineAsync(cancellationToken).ConfigureAwait(false));
            if (size == 0)
            {
                // Trailer fields, up to the empty line (RFC 9112 §7.1.2).
                while (await ReadLineAsync(cancellationToken).ConfigureAwait(false) > 0)
                {
                }

                return total;
            }

            await SkipAsync(size, cancellationToken).ConfigureAwait(false);
            if (await ReadLineAsync(cancellationToken).ConfigureAwait(false) != 0)
            {
                throw new HttpIOException(HttpRequestError.InvalidResponse, "a chunk is longer than its size");
            }

            total += size;
        }
    }

    /// <summary>Consumes one line and returns its length; the line's bytes stay readable at <see cref="_lastLine"/>.</summary>
    private async ValueTask<int> ReadLineAsync(CancellationToken cancellationToken)
    {
        int length;
        while ((length = buffer.AsSpan(_start, _end - _start).IndexOf(LineEnd)) < 0)
        {
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }

        _lastLine = (_start, length);
        _start += length + LineEnd.Length;
        return length;
    }

    private long ParseChunkSize(int length)
    {
        var line = buffer.AsSpan(_lastLine.Start, length);
        var extension = line.IndexOf((byte)';');
        if (extension >= 0)
        {
            line = line[..extension];
        }

        line = line.Trim((byte)' ');
        if (!Utf8Parser.TryParse(line, out long size, out var consumed, 'X') || consumed != line.Length || size < 0 || line.Length > 15)
        {
            throw new HttpIOException(HttpRequestError.InvalidResponse, "invalid chunk size");
        }

        return size;
    }

    private async ValueTask SkipAsync(long count, CancellationToken cancellationToken)
    {
        var fromBuffer = (int)Math.Min(count, Buffered);
        _start += fromBuffer;
        count -= fromBuffer;
        while (count > 0)
        {
            _start = _end = 0;
            var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new HttpIOException(HttpRequestError.ResponseEnded, "the connection closed before the end of the response body");
            }

            count -= read;
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == buffer.Length)
        {
            if (_start == 0)
            {
                throw new HttpIOException(HttpRequestError.InvalidResponse, $"a response head or line is longer than {buffer.Length} bytes");
            }

            Buffer.BlockCopy(buffer, _start, buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        var read = await stream.ReadAsync(buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            throw new HttpIOException(HttpRequestError.ResponseEnded, "the connection closed before the response was complete");
        }

        if (FirstByteTimestamp == 0)
        {
            FirstByteTimestamp = Stopwatch.GetTimestamp();
        }

        _end += read;
    }

    /// <summary>Parses "HTTP/1.x NNN reason" and the fields that frame the body. <paramref name="head"/> ends with CRLF.</summary>
    private static ResponseHead ParseHead(ReadOnlySpan<byte> head)
    {
        var lineEnd = head.IndexOf(LineEnd);
        var statusLine = head[..lineEnd];
        if (!Http1Head.TryParseStatus(statusLine, out var status))
        {
            throw new HttpIOException(HttpRequestError.InvalidResponse, "the response does not start with an HTTP/1.x status line");
        }

        long contentLength = -1;
        var chunked = false;
        var rest = head[(lineEnd + LineEnd.Length)..];
        while (Http1Head.TryTakeField(ref rest, out var name, out var value))
        {
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!Utf8Parser.TryParse(value, out contentLength, out var used) || used != value.Length || contentLength < 0)
                {
                    throw new HttpIOException(HttpRequestError.InvalidResponse, "invalid Content-Length");
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                chunked = value.Length >= 7 && Ascii.EqualsIgnoreCase(value[^7..], "chunked"u8);
            }
        }

        return new ResponseHead(status, chunked ? -1 : contentLength, chunked);
    }
}
