using System.Buffers;
using System.Globalization;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Errors;
using EgressLab.ProxyInstance.Policy;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Tunnel;

/// <summary>
/// Follows the requests a client sends through a plain-text HTTP/1.x tunnel and holds every one of them, not only
/// the first, to the CONNECT host and port: a keep-alive tunnel allowed for one name must not carry a second request
/// for another, which a shared origin (a CDN) would route by its Host. It finds each request head by the framing of
/// the one before (RFC 9112 §6.3: Content-Length, chunked, or no body) and tells the relay how many bytes it may
/// forward; a head is forwarded only once it is whole and checked.
/// </summary>
/// <remarks>
/// After a request that asks for an Upgrade (WebSocket) or a CONNECT, bytes that are not an HTTP request are the new
/// protocol and pass unchecked from then on; if the origin declined the upgrade, the client's next request is still
/// an HTTP request and is checked.
/// </remarks>
internal sealed class TunnelHttpGuard
{
    // RFC 9112 §7.1: a chunk-size line (size and extensions) is short; a longer one is refused.
    private const int MaxChunkLineBytes = 4096;

    private readonly EgressTarget _connect;
    private readonly RuntimeSettings _settings;
    private State _state;
    private long _remaining;
    private bool _mayChangeProtocol;

    public TunnelHttpGuard(EgressTarget connect, RuntimeSettings settings)
    {
        _connect = connect;
        _settings = settings;
    }

    private enum State
    {
        Head,
        Body,
        ChunkLine,
        ChunkData,
        Trailer,
        Opaque,
    }

    /// <summary>Why the request that was stopped is refused; <see cref="ProxyError.None"/> until one is.</summary>
    public ProxyError Error { get; private set; }

    public string? Detail { get; private set; }

    /// <summary>
    /// Looks at the bytes the client sent that have not been forwarded yet, which start where the last forwarded
    /// byte ended. Returns how many of them may be forwarded now; the rest wait for more bytes, unless
    /// <paramref name="refused"/>, when nothing after them may be forwarded at all.
    /// </summary>
    public long Inspect(in ReadOnlySequence<byte> buffer, out bool refused)
    {
        refused = false;
        long position = 0;
        while (position < buffer.Length)
        {
            var rest = buffer.Slice(position);
            switch (_state)
            {
                case State.Opaque:
                    return buffer.Length;

                case State.Head:
                {
                    var status = TunnelHttpHeadParser.TryParse(rest, _settings.MaxRequestHeadBytes, out var target, out var framing, out var problem);
                    if (status == TunnelHttpHeadStatus.Incomplete)
                    {
                        return position;
                    }

                    if (status == TunnelHttpHeadStatus.NotHttp && _mayChangeProtocol)
                    {
                        _state = State.Opaque;
                        return buffer.Length;
                    }

                    var (error, detail) = status switch
                    {
                        TunnelHttpHeadStatus.NotHttp => (ProxyError.InvalidRequest, "bytes that are not an HTTP/1.x request followed a request in the tunnel"),
                        TunnelHttpHeadStatus.Malformed => (ProxyError.InvalidRequest, problem),
                        _ => Check(target, _connect, _settings.Policy.SniMode),
                    };
                    if (error != ProxyError.None)
                    {
                        Error = error;
                        Detail = detail;
                        refused = true;
                        return position;
                    }

                    position += framing.HeadLength;
                    _mayChangeProtocol = framing.Opaque;
                    (_state, _remaining) = framing.Chunked ? (State.ChunkLine, 0L)
                        : framing.ContentLength > 0 ? (State.Body, framing.ContentLength)
                        : (State.Head, 0L);
                    break;
                }

                case State.Body:
                case State.ChunkData:
                {
                    var take = Math.Min(_remaining, rest.Length);
                    position += take;
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        // A chunk's data is followed by its CRLF, counted into the chunk's length here.
                        _state = _state == State.Body ? State.Head : State.ChunkLine;
                    }

                    break;
                }

                case State.ChunkLine:
                case State.Trailer:
                {
                    var window = rest.Length > MaxChunkLineBytes ? rest.Slice(0, MaxChunkLineBytes) : rest;
                    if (window.PositionOf((byte)'\n') is not { } lineEnd)
                    {
                        if (rest.Length >= MaxChunkLineBytes)
                        {
                            Error = ProxyError.InvalidRequest;
                            Detail = "a chunk-size or trailer line in the tunnel is too long";
                            refused = true;
                        }

                        return position;
                    }

                    var line = rest.Slice(0, lineEnd);
                    position += line.Length + 1;
                    if (!Advance(line))
                    {
                        Error = ProxyError.InvalidRequest;
                        Detail = "a chunk size in the tunnel is not a hexadecimal number";
                        refused = true;
                        return position - line.Length - 1;
                    }

                    break;
                }
            }
        }

        return position;
    }

    /// <summary>Holds what a request names to the CONNECT target. Shared by the first request's check and this guard.</summary>
    public static (ProxyError Error, string? Detail) Check(in TunnelHttpTarget target, EgressTarget connect, SniMode mode)
    {
        if (target.Destination is not { } named)
        {
            return mode == SniMode.AllowMissing ? (ProxyError.None, null) : (ProxyError.TunnelHostMismatch, null);
        }

        // Both canonical: case, a trailing dot and notation make no difference.
        return named == connect ? (ProxyError.None, null) : (ProxyError.TunnelHostMismatch, target.Named);
    }

    /// <summary>Moves past one chunk-size or trailer line (without its LF); false when a chunk size is invalid.</summary>
    private bool Advance(in ReadOnlySequence<byte> line)
    {
        Span<byte> copy = stackalloc byte[MaxChunkLineBytes];
        line.CopyTo(copy);
        var text = copy[..(int)line.Length];
        if (!text.IsEmpty && text[^1] == (byte)'\r')
        {
            text = text[..^1];
        }

        if (_state == State.Trailer)
        {
            // RFC 9112 §7.1.2: the trailer section ends with an empty line, and so does the message.
            _state = text.IsEmpty ? State.Head : State.Trailer;
            return true;
        }

        var extension = text.IndexOf((byte)';');
        var size = (extension < 0 ? text : text[..extension]).Trim((byte)' ');
        if (size.IsEmpty || size.Length > 15
            || !long.TryParse(size, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var length))
        {
            return false;
        }

        // The last chunk (size 0) is followed by the trailer section; any other by its data and CRLF.
        (_state, _remaining) = length == 0 ? (State.Trailer, 0L) : (State.ChunkData, length + 2);
        return true;
    }
}
