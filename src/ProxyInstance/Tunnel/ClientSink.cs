using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using EgressLab.ProxyInstance.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EgressLab.ProxyInstance.Tunnel;

/// <summary>
/// Writes to the client side of a tunnel. Kestrel's output pipe cannot half-close: completing it shuts the
/// whole socket, which would cut off a client still sending after the destination finished. So when Kestrel
/// exposes the socket we write to it directly, after the request head, while nothing else writes to it.
/// </summary>
internal sealed class ClientSink
{
    private readonly Socket? _socket;
    private readonly PipeWriter _output;
    private readonly EndPoint? _remote;
    private readonly EndPoint? _local;
    private volatile bool _closedConnection;

    public ClientSink(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        _output = connection.Transport.Output;
        _remote = connection.RemoteEndPoint;
        _local = connection.LocalEndPoint;
    }

    /// <summary>
    /// Writes through <paramref name="output"/>, in order after whatever Kestrel wrote to it before: for a tunnel
    /// on a connection Kestrel served first, whose earlier responses may still be in the pipe. Its half-close
    /// then closes the whole connection.
    /// </summary>
    public ClientSink(PipeWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    /// <summary>
    /// Whether <see cref="ShutdownSendAsync"/> has closed the whole connection, not only its sending half: so it does
    /// through the output pipe, and Kestrel then ends the client's input with a <see cref="ConnectionAbortedException"/>
    /// rather than end of input.
    /// </summary>
    public bool ClosedConnection => _closedConnection;

    /// <summary>The client's socket when writes go straight to it, for a relay that splices into it; null otherwise.</summary>
    public Socket? Socket => _socket;

    /// <summary>
    /// Whether <paramref name="mode"/> (<c>SpliceTunnels</c>) lets a tunnel splice its downloads to this client. The relay
    /// still splices only where it can: with <see cref="Socket"/> at hand, on Linux.
    /// </summary>
    public bool Splices(SpliceMode mode) => mode.AppliesTo(_remote, _local);

    public async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_socket is null)
        {
            await _output.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            return;
        }

        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    /// <summary>Sends FIN to the client while still reading what it sends (TCP half-close).</summary>
    public async ValueTask ShutdownSendAsync()
    {
        if (_socket is null)
        {
            // Set first: Kestrel's socket transport shuts the socket down both ways once its send loop has sent the
            // last bytes, and fails the input as it does.
            _closedConnection = true;
            await _output.CompleteAsync().ConfigureAwait(false);
            return;
        }

        _socket.Shutdown(SocketShutdown.Send);
    }
}
