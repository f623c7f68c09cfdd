using System.CommandLine;
using System.Globalization;
using EgressLab.LoadTests.Load;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Scenarios;

namespace EgressLab.LoadTests.Cli;

/// <summary><c>run</c>: one scenario against one origin under one load (or a rate ladder), measured and judged.</summary>
internal static class RunCommand
{
    private const string Description = """
        Load one scenario against the origin and measure it: latency (HDR histogram, corrected from each request's
        intended send time and uncorrected from its actual send), achieved against offered rate, errors by class,
        throughput and, for new-connection, each phase of a new connection.

        Load models: --rate N is the open model (N requests/s, evenly spaced, each sent on time whether or not earlier
        ones have answered; late and dropped sends are counted); --concurrency N (or neither) is the closed model (N users,
        8 by default). --ladder R1,R2,... runs the open model at each rate and reports the knee: the highest rate whose
        achieved rate is at least 95% of offered, whose failed plus dropped requests stay under 1%, and whose corrected
        p99 stays within max(20 ms, 5 x the first step's p99); it stops at the first step past the knee.

        Requests still outstanding when the window ends get min(--timeout, 5s) to finish, then are cancelled and counted
        as timeouts. The warm-up runs the same load and is left out of the results.

        Exit status: 0 when every --assert passed, 1 when one failed (each is named with its actual value) or the run could
        not complete, 2 for bad arguments.
        """;

    public static Command Create() => Create(Environment.GetEnvironmentVariable);

    /// <param name="environment">Reads an environment variable (the proxy variables, SSL_CERT_FILE).</param>
    public static Command Create(Func<string, string?> environment)
    {
        var scenario = new Option<string>("--scenario", "-s")
        {
            Description = "What to request: http-small (GET /1k over http), https-small (GET /1k over https; through a proxy, in a CONNECT tunnel), " +
                "new-connection (GET /1k over https on a new TCP connection and TLS session each time, timed phase by phase), " +
                "bulk (GET /10m, 10 MiB), upload (POST 1 MiB of random bytes to /upload; --upload-size sets another size).",
            Required = true,
        };
        var url = new Option<string>("--url", "-u")
        {
            Description = "The origin: a host (www.lab.test), host:port, or a URL (http://www.lab.test, https://127.0.0.1:8443), with an optional path prefix. " +
                "Each scenario uses its own scheme: http-small http, https-small and new-connection https, bulk and upload the scheme given here (http if none). " +
                "A port belongs to the scheme written with it (with no scheme, to every scenario); a scenario switching scheme uses that scheme's default port.",
            Required = true,
        };
        var proxy = new Option<string?>("--proxy")
        {
            Description = "A plain-HTTP proxy, http://HOST:PORT; https requests go through CONNECT on it. Without --proxy, http_proxy (http), " +
                "https_proxy or HTTPS_PROXY (https), all_proxy, and no_proxy are read as curl reads them. '--proxy direct' ignores them.",
        };
        var rate = new Option<string?>("--rate", "-r") { Description = "Open model: requests per second, evenly spaced; latency counts from each intended send time." };
        var concurrency = new Option<string?>("--concurrency", "-c") { Description = "Closed model: users, each sending again as soon as its answer is complete. The default is 8." };
        var duration = new Option<string?>("--duration", "-d") { Description = $"The measured window: {DurationText.Forms}. The default is 20s." };
        var warmUp = new Option<string?>("--warmup") { Description = "Load offered before the window and left out of the results. The default is 5s." };
        var ladder = new Option<string?>("--ladder") { Description = "Rising rates, comma-separated (50,100,200,400): the open model at each in turn, each with --warmup and --duration; finds the knee." };
        var maxInFlight = new Option<string?>("--max-in-flight") { Description = "Open model: the most requests outstanding; a send due beyond it is dropped and counted. The default is 1000." };
        var connections = new Option<string?>("--connections")
        {
            Description = "Open model, keep-alive scenarios: the most connections to open. A request waits for a free one; the wait counts in " +
                "corrected latency only. The default is no limit.",
        };
        var assert = new Option<string[]>("--assert", "-a")
        {
            Description = "A threshold, repeatable: p99<50ms, max<1.5s, errors<1%, rate>=95, mbps>100. Metrics: p50 p90 p99 p999 max mean " +
                "(corrected latency, ms or s), errors (failed and dropped, %), rate (achieved req/s), mbps (MB/s); operators < <= > >=. " +
                "With --ladder, judged at the knee (at the first step when none is found).",
            AllowMultipleArgumentsPerToken = false,
        };
        var json = new Option<string?>("--json") { Description = "Write the results (RunResults) to this file as JSON." };
        var caFile = new Option<string?>("--ca-file") { Description = "A PEM file of CA certificates to trust besides the system store (SSL_CERT_FILE is trusted too when set)." };
        var timeout = new Option<string?>("--timeout") { Description = "Per request, connection included. The default is 10s." };
        var uploadSize = new Option<string?>("--upload-size")
        {
            Description = "upload: the body of each request, in bytes, KiB or MiB (100MiB). The default is 1MiB.",
        };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress line (it shows once a second on a terminal, or when the run is longer than 10s)." };

        var command = new Command("run", Description)
        {
            scenario, url, proxy, rate, concurrency, duration, warmUp, ladder, maxInFlight, connections, assert, json, caFile, timeout, uploadSize, quiet,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var arguments = new RunArguments
            {
                Scenario = parse.GetValue(scenario),
                Url = parse.GetValue(url),
                Proxy = parse.GetValue(proxy),
                Rate = parse.GetValue(rate),
                Concurrency = parse.GetValue(concurrency),
                Duration = parse.GetValue(duration),
                WarmUp = parse.GetValue(warmUp),
                Ladder = parse.GetValue(ladder),
                MaxInFlight = parse.GetValue(maxInFlight),
                Connections = parse.GetValue(connections),
                Timeout = parse.GetValue(timeout),
                UploadSize = parse.GetValue(uploadSize),
                Asserts = parse.GetValue(assert) ?? [],
                Json = parse.GetValue(json),
                CaFile = parse.GetValue(caFile),
                Quiet = parse.GetValue(quiet),
            };
            var commandLine = RunEnvironmentProbe.CommandLine("load-tests", parse.Tokens.Select(t => t.Value));
            return ExecuteAsync(arguments, environment, commandLine, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken);
        });
        return command;
    }

    public static async Task<int> ExecuteAsync(RunArguments arguments, Func<string, string?> environment, string commandLine,
        TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var problems = new List<string>();
        var settings = RunSettings.TryCreate(arguments, environment, problems);
        if (settings is null)
        {
            foreach (var problem in problems)
            {
                await error.WriteLineAsync($"error: {problem}").ConfigureAwait(false);
            }

            await error.WriteLineAsync("see run --help for the options and their forms.").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        using var trust = settings.Trust;
        var environmentBlock = RunEnvironmentProbe.Capture(commandLine, DateTimeOffset.UtcNow);
        using var operation = ScenarioFactory.Create(settings.Scenario, settings.Target, settings.Proxy.Proxy, settings.Trust, settings.Timeout, settings.Connections,
            settings.UploadBytes);
        IReadOnlyList<ScenarioResult> results;
        IReadOnlyList<LadderStep>? steps = null;
        int? knee = null;
        var progress = ProgressLine.StartIfWanted(error, settings.Quiet, ExpectedLength(settings));
        try
        {
            if (settings.Ladder is { } rates)
            {
                var outcome = await RateLadder.RunAsync(operation, settings.Plan, rates, settings.ScenarioName,
                    (i, runner) => progress?.Track(runner, string.Create(CultureInfo.InvariantCulture, $"step {i + 1}/{rates.Count} {rates[i]}/s ")),
                    cancellationToken).ConfigureAwait(false);
                results = outcome.Results;
                steps = outcome.Steps;
                knee = outcome.Knee;
            }
            else
            {
                var runner = LoadRunner.Create(operation, settings.Plan);
                progress?.Track(runner, string.Empty);
                await runner.RunAsync(cancellationToken).ConfigureAwait(false);
                results = [runner.Recorder.ToResult(settings.ScenarioName)];
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("interrupted: the run did not complete, no results written.").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        finally
        {
            if (progress is not null)
            {
                await progress.DisposeAsync().ConfigureAwait(false);
            }
        }

        var judged = results[Math.Clamp(knee ?? 0, 0, results.Count - 1)];
        var thresholdResults = settings.Thresholds.Select(t => t.Evaluate(judged)).ToList();
        var runResults = new RunResults
        {
            Environment = environmentBlock,
            Url = settings.BaseUrl,
            Proxy = settings.Proxy.Proxy?.GetLeftPart(UriPartial.Authority),
            Results = results,
            Ladder = steps,
            Thresholds = thresholdResults,
        };
        RunTable.Write(output, runResults, knee);

        var exit = ExitCodes.Ok;
        if (settings.JsonPath is { } path)
        {
            try
            {
                await File.WriteAllTextAsync(path, ResultsJson.Serialize(runResults), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"error: cannot write --json '{path}': {exception.Message}").ConfigureAwait(false);
                exit = ExitCodes.Failed;
            }
        }

        for (var i = 0; i < thresholdResults.Count; i++)
        {
            if (!thresholdResults[i].Passed)
            {
                var threshold = settings.Thresholds[i];
                await error.WriteLineAsync($"threshold failed: {threshold.Expression} (actual {threshold.Format(thresholdResults[i].Actual)})").ConfigureAwait(false);
                exit = ExitCodes.Failed;
            }
        }

        return exit;
    }

    private static TimeSpan ExpectedLength(RunSettings settings)
    {
        var step = settings.Plan.WarmUp + settings.Plan.Duration;
        return settings.Ladder is { } rates ? step * rates.Count : step;
    }
}
