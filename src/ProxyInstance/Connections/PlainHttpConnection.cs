using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace EgressLab.ProxyInstance.Connections;

/// <summary>
/// The proxy connection as Kestrel's HTTP/1.1 pipeline sees it. Kestrel reads through a
/// <see cref="RequestHeadRecorder"/> and writes through a <see cref="DetachableOutput"/>, and the whole
/// connection can be handed over to a tunnel while a CONNECT request is in the application: a client may
/// reuse a keep-alive connection for a tunnel, and Kestrel has no way to give the connection up for one
/// (dotnet/aspnetcore #21953).
/// </summary>
/// <remarks>
/// Kestrel aborts a connection, its response included, as soon as the client's side of it closes
/// (<see cref="ConnectionContext.ConnectionClosed"/>). A client may send a request and then half-close
/// (<c>shutdown(SHUT_WR)</c>, as <c>nc -N</c> does); it still reads the answer (RFC 9112 §9.6: closing is done in
/// stages). So the signal reaches Kestrel only when the client's side failed (a reset), not when it merely sent
/// FIN: Kestrel then reads end of input after the request, answers it and closes. A tunnel must survive the
/// client's half-close too, so once the connection is handed over the signal never reaches Kestrel.
/// </remarks>
internal sealed class PlainHttpConnection : ConnectionContext
{
    private readonly ConnectionContext _inner;
    private readonly DetachableOutput _output;
    private readonly CancellationTokenSource _closed = new();
    private readonly CancellationTokenRegistration _innerClosed;
    private readonly Socket? _socket;
    private volatile bool _handedOver;

    public PlainHttpConnection(ConnectionContext inner, int headRecordLimit)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        Recorder = new RequestHeadRecorder(inner.Transport.Input, headRecordLimit);
        _output = new DetachableOutput(inner.Transport.Output);
        Transport = new DuplexPipe(Recorder, _output);
        inner.Features.Set(this);
        inner.Features.Set(Recorder);
        _socket = inner.Features.Get<IConnectionSocketFeature>()?.Socket;
        _innerClosed = inner.ConnectionClosed.UnsafeRegister(static state => ((PlainHttpConnection)state!).OnInnerClosed(), this);
    }

    public RequestHeadRecorder Recorder { get; }

    /// <summary>Whether the connection arrived past <c>Limits:MaxConnections</c>: its first request gets a 503 and it closes.</summary>
    public bool OverConnectionLimit { get; init; }

    public override IDuplexPipe Transport { get; set; }

    public override string ConnectionId
    {
        get => _inner.ConnectionId;
        set => _inner.ConnectionId = value;
    }

    public override IFeatureCollection Features => _inner.Features;

    public override IDictionary<object, object?> Items
    {
        get => _inner.Items;
        set => _inner.Items = value;
    }

    public override CancellationToken ConnectionClosed
    {
        get => _closed.Token;
        set => throw new NotSupportedException("The connection-closed token of a proxy connection is its transport's.");
    }

    public override EndPoint? LocalEndPoint
    {
        get => _inner.LocalEndPoint;
        set => _inner.LocalEndPoint = value;
    }

    public override EndPoint? RemoteEndPoint
    {
        get => _inner.RemoteEndPoint;
        set => _inner.RemoteEndPoint = value;
    }

    public override void Abort(ConnectionAbortedException abortReason) => _inner.Abort(abortReason);

    public override void Abort() => _inner.Abort();

    /// <summary>
    /// Takes the connection from Kestrel: returns the raw input (Kestrel has consumed exactly the current
    /// request's head) and the real output. Kestrel reads end of input and writes into nothing from now on;
    /// the caller ends the request with <c>Connection: close</c> so Kestrel then closes the connection.
    /// </summary>
    public (PipeReader Input, PipeWriter Output) HandOver()
    {
        _handedOver = true;
        return (Recorder.HandOver(), _output.Detach());
    }

    public override async ValueTask DisposeAsync()
    {
        // The transport connection belongs to Kestrel: only what this wrapper made is released here.
        await _innerClosed.DisposeAsync().ConfigureAwait(false);
        _closed.Dispose();
        Recorder.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void OnInnerClosed()
    {
        if (!_handedOver && !ClientSocketState.PeerOnlyHalfClosed(_socket))
        {
            _closed.Cancel();
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
