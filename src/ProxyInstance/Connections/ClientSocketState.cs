using System.Net.Sockets;

namespace EgressLab.ProxyInstance.Connections;

/// <summary>
/// Tells a client that half-closed its connection (sent FIN, still reading) from one whose connection failed. Kestrel
/// reports both the same way, as the end of the connection.
/// </summary>
internal static class ClientSocketState
{
    // Linux <netinet/tcp.h>: TCP_INFO's first byte is the connection's state.
    private const int SolTcp = 6;
    private const int TcpInfo = 11;
    private const byte TcpCloseWait = 8;

    /// <summary>
    /// Whether the peer of <paramref name="socket"/> has sent FIN and the connection can still carry an answer to it
    /// (TCP state CLOSE_WAIT). False after a reset, for a socket already closed, without a socket, and where the
    /// state cannot be read (outside Linux): the connection is then treated as gone, as Kestrel treats it.
    /// </summary>
    public static bool PeerOnlyHalfClosed(Socket? socket)
    {
        if (socket is null || !OperatingSystem.IsLinux())
        {
            return false;
        }

        Span<byte> info = stackalloc byte[8];
        try
        {
            return socket.GetRawSocketOption(SolTcp, TcpInfo, info) >= 1 && info[0] == TcpCloseWait;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }
}
