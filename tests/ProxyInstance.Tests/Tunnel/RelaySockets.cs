using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EgressLab.ProxyInstance.Tests.Tunnel;

/// <summary>Two connected loopback sockets: the proxy's end and the peer's.</summary>
internal sealed class SocketPair : IDisposable
{
    private SocketPair(Socket near, Socket far)
    {
        Near = near;
        Far = far;
    }

    public Socket Near { get; }
    public Socket Far { get; }

    public static async Task<SocketPair> OpenAsync(int? sendBuffer = null)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var far = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accepting = listener.AcceptAsync();
        await far.ConnectAsync(listener.LocalEndPoint!);
        var near = await accepting;
        if (sendBuffer is { } size)
        {
            near.SendBufferSize = size;
            far.ReceiveBufferSize = size;
        }

        // .NET makes a socket non-blocking when it first waits asynchronously; the relay's sockets always have.
        near.Blocking = false;
        return new SocketPair(near, far);
    }

    public void Dispose()
    {
        Near.Dispose();
        Far.Dispose();
    }
}

/// <summary>A connection whose socket Kestrel would expose, so the relay writes to it directly.</summary>
internal sealed class SocketConnection : ConnectionContext, IConnectionSocketFeature
{
    public SocketConnection(Socket socket)
    {
        Socket = socket;
        Features.Set<IConnectionSocketFeature>(this);
        var pipe = new Pipe();
        Transport = new DuplexPipe(pipe.Reader, pipe.Writer);
    }

    public Socket Socket { get; }
    public override string ConnectionId { get; set; } = "relay-test";
    public override Microsoft.AspNetCore.Http.Features.IFeatureCollection Features { get; } = new Microsoft.AspNetCore.Http.Features.FeatureCollection();
    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    public override IDuplexPipe Transport { get; set; }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
