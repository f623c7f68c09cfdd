namespace EgressLab.LoadTests.Results;

/// <summary>
/// natgw-destination-limit on one path: many simultaneous connections to one destination (address, port, protocol),
/// all held open, then one connection to a second destination while they are.
/// </summary>
/// <param name="Destination">Where the held connections went, <c>198.51.100.20:80</c>.</param>
/// <param name="Attempts">Connections tried at once.</param>
/// <param name="Opened">Connections that opened within <paramref name="ConnectTimeoutSeconds"/>.</param>
/// <param name="SecondDestinationOpened">Whether the connection to <paramref name="SecondDestination"/> opened while the others were held.</param>
internal sealed record DestinationLimitResult(string Destination, int Attempts, int Opened, double ConnectTimeoutSeconds, string SecondDestination, bool SecondDestinationOpened)
{
    public int Failed => Attempts - Opened;
}

/// <summary>What became of a connection's next request after it sat idle.</summary>
internal enum IdleOutcome
{
    /// <summary>The server answered: nothing on the path forgot the connection.</summary>
    Answered,

    /// <summary>A TCP reset: something on the path (a NAT gateway after its idle timeout) no longer knew the connection.</summary>
    Reset,

    /// <summary>The connection was closed in order (FIN), by the server.</summary>
    Closed,

    /// <summary>Nothing came back in time.</summary>
    NoAnswer,

    /// <summary>The connection could not be opened or the first request was not answered, so there was nothing to leave idle.</summary>
    Failed,
}

/// <summary>natgw-idle-timeout on one path: one request, the connection left idle, then a second request on it.</summary>
internal sealed record IdleTimeoutResult(string Destination, double IdleSeconds, IdleOutcome Outcome, string Detail);

/// <summary>One behaviour probe on one path: exactly one of the results is set, by <paramref name="Scenario"/>.</summary>
internal sealed record ProbeCell(string PathId, string Scenario, DestinationLimitResult? Limit = null, IdleTimeoutResult? Idle = null);

/// <summary>The limits the lab's NAT gateway had in a compare run (lowered from AWS's so the probes take seconds).</summary>
internal sealed record NatGatewayLimits(double IdleTimeoutSeconds, int ConnectionsPerDestination);
