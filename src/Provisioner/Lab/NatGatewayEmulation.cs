using System.Globalization;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// The two documented limits of a NAT gateway that the lab emulates, as numbers a test or a short compare run can
/// lower: AWS's values are the defaults. Read from EGRESS_LAB_NATGW_IDLE_TIMEOUT (seconds) and
/// EGRESS_LAB_NATGW_CONNECTIONS_PER_DESTINATION.
/// </summary>
/// <param name="IdleTimeout">How long an established TCP connection may stay idle before the gateway forgets it. The default is 350 seconds.</param>
/// <param name="ConnectionsPerDestination">How many simultaneous connections it carries to one destination (address, port, protocol). The default is 55,000.</param>
internal sealed record NatGatewayEmulation(TimeSpan IdleTimeout, int ConnectionsPerDestination)
{
    public const string IdleTimeoutVariable = "EGRESS_LAB_NATGW_IDLE_TIMEOUT";
    public const string ConnectionsPerDestinationVariable = "EGRESS_LAB_NATGW_CONNECTIONS_PER_DESTINATION";

    /// <summary>What AWS documents: 350 seconds, 55,000 connections.</summary>
    public static NatGatewayEmulation Aws { get; } = new(TimeSpan.FromSeconds(350), 55_000);

    /// <summary>The emulation the variables ask for, or AWS's where they are unset; every bad value is reported with its fix.</summary>
    public static NatGatewayEmulation FromVariables(Func<string, string?> variable, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(variable);
        ArgumentNullException.ThrowIfNull(problems);
        var idle = Whole(variable(IdleTimeoutVariable), IdleTimeoutVariable, 1, 432_000, (int)Aws.IdleTimeout.TotalSeconds, "seconds, e.g. 5 for tests or 350 as on AWS", problems);
        var limit = Whole(variable(ConnectionsPerDestinationVariable), ConnectionsPerDestinationVariable, 1, 64_512, Aws.ConnectionsPerDestination, "connections, e.g. 50 for tests or 55000 as on AWS", problems);
        return new NatGatewayEmulation(TimeSpan.FromSeconds(idle), limit);
    }

    public bool IsAws => this == Aws;

    private static int Whole(string? text, string name, int min, int max, int fallback, string unit, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        // 64,512 is every port from 1024 to 65535: a gateway cannot carry more to one destination than it has ports.
        problems.Add($"{name}='{text}' is not a whole number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}: give {unit}, or unset it for AWS's value.");
        return fallback;
    }
}
