using System.Globalization;
using EgressLab.Provisioner.Processes;

namespace EgressLab.LoadTests.Bench;

/// <summary>What one wrk run measured, read from the line its <c>done</c> hook prints.</summary>
internal sealed record WrkResult(long Requests, long Bytes, double Seconds, long ConnectErrors, long ReadErrors, long WriteErrors,
    long StatusErrors, long Timeouts, double P50Milliseconds, double P99Milliseconds, double MaxMilliseconds)
{
    public long Errors => ConnectErrors + ReadErrors + WriteErrors + StatusErrors + Timeouts;

    public double RequestsPerSecond => Seconds > 0 ? Requests / Seconds : 0;

    /// <summary>Megabytes (10^6 bytes) per second received, headers included.</summary>
    public double MegabytesPerSecond => Seconds > 0 ? Bytes / 1e6 / Seconds : 0;

    public string DescribeErrors() => string.Create(CultureInfo.InvariantCulture,
        $"connect {ConnectErrors}, read {ReadErrors}, write {WriteErrors}, non-2xx/3xx {StatusErrors}, timeout {Timeouts}");
}

/// <summary>
/// Plain-HTTP load from wrk: keep-alive connections, each sending its next request as soon as the last is answered.
/// Through a proxy, the request line carries the absolute URI (<c>GET http://origin:port/1k HTTP/1.1</c>), as
/// curl and browsers send it to a forward proxy; directly, the origin-form path.
/// </summary>
internal static class WrkLoad
{
    private const string ResultMarker = "bench-result";

    /// <summary>Writes the Lua script for one target and returns its path.</summary>
    public static string WriteScript(string directory, string name, string path, string hostHeader)
    {
        var script = Path.Combine(directory, $"wrk-{name}.lua");
        File.WriteAllText(script, $$"""
            -- Written by load-tests bench.
            wrk.method = "GET"
            wrk.path = "{{path}}"
            wrk.headers["Host"] = "{{hostHeader}}"
            done = function(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("{{ResultMarker}} %d %d %d %d %d %d %d %d %d %d %d\n",
                summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
                latency:percentile(50), latency:percentile(99), latency.max))
            end

            """);
        return script;
    }

    /// <summary>Runs wrk for <paramref name="duration"/> on <paramref name="connections"/> connections.</summary>
    /// <param name="server">The address wrk connects to: the proxy, or the origin itself.</param>
    public static async Task<WrkResult> RunAsync(string script, Uri server, int connections, TimeSpan duration, CancellationToken cancellationToken)
    {
        var seconds = Math.Max(1, (int)Math.Round(duration.TotalSeconds));
        string[] arguments =
        [
            "-t", Math.Min(2, connections).ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-d", seconds.ToString(CultureInfo.InvariantCulture) + "s", "--timeout", "10s", "-s", script, server.AbsoluteUri,
        ];
        CommandResult result;
        try
        {
            result = await ProcessRunner.RunAsync("wrk", arguments, TimeSpan.FromSeconds(seconds + 30), cancellationToken).ConfigureAwait(false);
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new BenchException($"cannot run wrk ({exception.Message}); install it: apt-get install wrk");
        }

        if (result.ExitCode == CommandResult.TimedOut)
        {
            throw new BenchException($"wrk did not finish within {seconds + 30} s");
        }

        return Parse(result.Output) ?? throw new BenchException($"wrk exited with {result.ExitCode} and printed no result: {result.Error.Trim()} {result.Output.Trim()}");
    }

    /// <summary>Reads the result line of <see cref="WriteScript"/>'s hook out of wrk's output; null when there is none.</summary>
    public static WrkResult? Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (var line in output.Split('\n'))
        {
            var fields = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 12 || fields[0] != ResultMarker)
            {
                continue;
            }

            var values = new long[11];
            for (var i = 0; i < values.Length; i++)
            {
                if (!long.TryParse(fields[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
                {
                    return null;
                }
            }

            return new WrkResult(values[0], values[1], values[2] / 1e6, values[3], values[4], values[5], values[6], values[7],
                values[8] / 1e3, values[9] / 1e3, values[10] / 1e3);
        }

        return null;
    }
}
