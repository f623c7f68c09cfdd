using System.Net;
using System.Net.Sockets;

namespace EgressLab.LoadTests.Tests.TestHost;

/// <summary>A loopback TCP server that reads the first bytes of each connection, then resets it (RST, not FIN).</summary>
internal sealed class ResettingServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public ResettingServer()
    {
        _listener.Start();
        _accepting = AcceptAsync(_stop.Token);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        // Bounded: a test makes a handful of connections.
        for (var i = 0; i < 100 && !cancellationToken.IsCancellationRequested; i++)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using (socket)
            {
                try
                {
                    await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
                }
                catch (Exception exception) when (exception is SocketException or TimeoutException or OperationCanceledException)
                {
                    // Reset it anyway.
                }

                socket.LingerState = new LingerOption(true, 0);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
