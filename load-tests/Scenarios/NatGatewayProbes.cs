using System.Net;
using System.Net.Sockets;
using System.Text;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Scenarios;

/// <summary>
/// The two behaviour probes that show what a NAT gateway does that a NAT instance does not: they measure no latency,
/// they show what happens at a documented limit. Raw sockets, so nothing between the probe and the path (no connection
/// pool, no retry) hides what the path did.
/// </summary>
internal static class NatGatewayProbes
{
    public const string DestinationLimit = "natgw-destination-limit";
    public const string IdleTimeout = "natgw-idle-timeout";

    public static IReadOnlyList<string> Names { get; } = [DestinationLimit, IdleTimeout];

    /// <summary>
    /// Opens <paramref name="attempts"/> connections to <paramref name="destination"/> at once and holds those that
    /// open; while they are held, opens one to <paramref name="second"/>. A connection not open within
    /// <paramref name="connectTimeout"/> counts as failed (a NAT gateway out of ports drops the SYN).
    /// </summary>
    public static async Task<DestinationLimitResult> DestinationLimitAsync(IPEndPoint destination, IPEndPoint second, int attempts, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(second);
        var held = await Task.WhenAll(Enumerable.Range(0, attempts).Select(_ => TryConnectAsync(destination, connectTimeout, cancellationToken))).ConfigureAwait(false);
        try
        {
            using var other = await TryConnectAsync(second, connectTimeout, cancellationToken).ConfigureAwait(false);
            return new DestinationLimitResult(destination.ToString(), attempts, held.Count(s => s is not null), connectTimeout.TotalSeconds, second.ToString(), other is not null);
        }
        finally
        {
            foreach (var socket in held)
            {
                socket?.Dispose();
            }
        }
    }

    /// <summary>
    /// Sends a HEAD on a new keep-alive connection, reads the answer, leaves the connection idle for
    /// <paramref name="idle"/> and sends a second HEAD: the outcome is what came back.
    /// </summary>
    public static async Task<IdleTimeoutResult> IdleTimeoutAsync(IPEndPoint destination, string host, TimeSpan idle, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var request = Encoding.ASCII.GetBytes($"HEAD / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: egress-lab-load/1.0\r\n\r\n");
        var text = destination.ToString();
        using var socket = await TryConnectAsync(destination, timeout, cancellationToken).ConfigureAwait(false);
        if (socket is null)
        {
            return new IdleTimeoutResult(text, idle.TotalSeconds, IdleOutcome.Failed, "the connection did not open");
        }

        var (first, firstDetail) = await ExchangeAsync(socket, request, timeout, cancellationToken).ConfigureAwait(false);
        if (first != IdleOutcome.Answered)
        {
            return new IdleTimeoutResult(text, idle.TotalSeconds, IdleOutcome.Failed, $"the first request: {firstDetail}");
        }

        await Task.Delay(idle, cancellationToken).ConfigureAwait(false);
        var (outcome, detail) = await ExchangeAsync(socket, request, timeout, cancellationToken).ConfigureAwait(false);
        return new IdleTimeoutResult(text, idle.TotalSeconds, outcome, detail);
    }

    private static async Task<(IdleOutcome Outcome, string Detail)> ExchangeAsync(Socket socket, byte[] request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var buffer = new byte[4096];
        var answer = new StringBuilder();
        try
        {
            await socket.SendAsync(request, SocketFlags.None, deadline.Token).ConfigureAwait(false);

            // A HEAD answer ends with its head: read until the blank line, so nothing is left unread for the next request.
            while (!answer.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return (IdleOutcome.Closed, "the server closed the connection (FIN)");
                }

                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            return (IdleOutcome.Answered, answer.ToString().Split("\r\n")[0]);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
        {
            return (IdleOutcome.Reset, $"connection reset ({ex.SocketErrorCode})");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (IdleOutcome.NoAnswer, $"no answer within {timeout.TotalSeconds:0.#} s");
        }
    }

    private static async Task<Socket?> TryConnectAsync(IPEndPoint destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(destination.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(destination, deadline.Token).ConfigureAwait(false);
            return socket;
        }
        catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            socket.Dispose();
            return null;
        }
    }
}
