using System.Net;
using System.Net.Sockets;

namespace EgressLab.ProxyInstance.Egress;

/// <summary>Resolves a DNS name to addresses. The seam exists so the dialer can be tested without a DNS server.</summary>
internal interface IHostResolver
{
    /// <summary>Returns the addresses of <paramref name="host"/>; throws <see cref="SocketException"/> when it has none.</summary>
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

internal sealed class SystemHostResolver : IHostResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(host, cancellationToken);
}

/// <summary>Connects a socket. The seam lets tests prove where the dialer would have connected without a packet leaving loopback.</summary>
internal interface ISocketConnector
{
    ValueTask ConnectAsync(Socket socket, IPEndPoint endPoint, CancellationToken cancellationToken);
}

internal sealed class SocketConnector : ISocketConnector
{
    public ValueTask ConnectAsync(Socket socket, IPEndPoint endPoint, CancellationToken cancellationToken) =>
        socket.ConnectAsync(endPoint, cancellationToken);
}
