using System.CommandLine;
using System.Globalization;
using System.Net;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Scenarios;

namespace EgressLab.LoadTests.Cli;

/// <summary>
/// <c>probe</c>: one NAT gateway behaviour probe from where it runs (compare runs it inside a lab host), written as
/// JSON. Exit codes: 0 the probe ran (whatever it found), 1 it could not write its result, 2 bad input.
/// </summary>
internal static class ProbeCommand
{
    private const string Description = """
        Run one behaviour probe and write what it found. natgw-destination-limit opens --attempts connections to
        --target at once, holds those that open, and meanwhile opens one to --second: behind a NAT gateway those past
        its per-destination limit fail while the second destination still works. natgw-idle-timeout sends a request on
        a keep-alive connection to --target, leaves it idle for --idle and sends another: behind a NAT gateway whose
        idle timeout passed, the answer is a TCP reset.
        """;

    public static Command Create()
    {
        var scenario = new Option<string>("--scenario", "-s") { Description = $"{string.Join(" or ", NatGatewayProbes.Names)}.", Required = true };
        var target = new Option<string>("--target") { Description = "The destination, ADDRESS:PORT (an IPv4 address: the limit is per address).", Required = true };
        var second = new Option<string?>("--second") { Description = "natgw-destination-limit: the second destination, ADDRESS:PORT." };
        var attempts = new Option<string?>("--attempts") { Description = "natgw-destination-limit: connections to open at once, 1 to 20000. The default is 110." };
        var idle = new Option<string?>("--idle") { Description = $"natgw-idle-timeout: how long the connection stays idle: {DurationText.Forms}. The default is 7s." };
        var host = new Option<string?>("--host") { Description = "natgw-idle-timeout: the Host header. The default is the target's address." };
        var json = new Option<string>("--json") { Description = "Where to write the result (JSON).", Required = true };
        var command = new Command("probe", Description) { scenario, target, second, attempts, idle, host, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var problems = new List<string>();
            var name = parse.GetValue(scenario)!.Trim();
            if (!NatGatewayProbes.Names.Contains(name))
            {
                problems.Add($"--scenario '{name}' is not a probe; choose {string.Join(" or ", NatGatewayProbes.Names)}.");
            }

            var destination = EndPoint(parse.GetValue(target), "--target", problems);
            var other = name == NatGatewayProbes.DestinationLimit ? EndPoint(parse.GetValue(second) ?? "", "--second", problems) : null;
            var count = Attempts(parse.GetValue(attempts), problems);
            var wait = Idle(parse.GetValue(idle), problems);
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await error.WriteLineAsync($"error: {problem}").ConfigureAwait(false);
                }

                return ExitCodes.BadInput;
            }

            var timeout = TimeSpan.FromSeconds(3);
            var cell = name == NatGatewayProbes.DestinationLimit
                ? new ProbeCell("", name, Limit: await NatGatewayProbes.DestinationLimitAsync(destination!, other!, count, timeout, cancellationToken).ConfigureAwait(false))
                : new ProbeCell("", name, Idle: await NatGatewayProbes.IdleTimeoutAsync(destination!, parse.GetValue(host) ?? destination!.Address.ToString(), wait, timeout, cancellationToken).ConfigureAwait(false));
            await File.WriteAllTextAsync(parse.GetValue(json)!, ResultsJson.Serialize(cell), cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static IPEndPoint? EndPoint(string? text, string option, List<string> problems)
    {
        if (IPEndPoint.TryParse(text ?? "", out var endPoint) && endPoint.Port > 0 && endPoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            return endPoint;
        }

        problems.Add($"{option} '{text}' is not ADDRESS:PORT: write an IPv4 address and a port, for example 198.51.100.20:80.");
        return null;
    }

    private static int Attempts(string? text, List<string> problems)
    {
        if (text is null)
        {
            return 110;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= 20_000)
        {
            return value;
        }

        problems.Add($"--attempts '{text}' must be a whole number from 1 to 20000.");
        return 110;
    }

    private static TimeSpan Idle(string? text, List<string> problems)
    {
        if (text is null)
        {
            return TimeSpan.FromSeconds(7);
        }

        if (DurationText.TryParse(text, out var value) && value > TimeSpan.Zero && value <= TimeSpan.FromMinutes(10))
        {
            return value;
        }

        problems.Add($"--idle '{text}' is not a duration up to 10 minutes: use {DurationText.Forms}.");
        return TimeSpan.FromSeconds(7);
    }
}
