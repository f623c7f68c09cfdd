using System.Globalization;
using System.Net;
using System.Text.Json;
using EgressLab.LoadTests.Results;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Processes;

namespace EgressLab.LoadTests.Bench;

/// <summary>
/// The bench: nginx as the origin, Squid and the proxy instance in front of it, all on loopback, and every load figure
/// measured on each of them and directly, interleaved round by round so that a noisy neighbour hurts all alike.
/// Exit codes: 0 every figure measured (met or not), 1 a figure could not be measured or had errors, 2 bad input.
/// </summary>
internal sealed class BenchRunner(TextWriter output, TextWriter error)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly string[] LoadFigures =
    [
        BenchFigures.Http1k, BenchFigures.Http10m, BenchFigures.Https10m, BenchFigures.HttpUpload1m, BenchFigures.HttpUpload100m,
        BenchFigures.HttpsUpload1m, BenchFigures.HttpsUpload100m, BenchFigures.NewTunnels,
    ];

    public async Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var startedAt = DateTimeOffset.UtcNow;
        var needsLoad = LoadFigures.Any(options.Includes);
        var needsOrigin = needsLoad || options.Includes(BenchFigures.IdleTunnels);
        var missing = new List<string>();
        var tools = new Dictionary<string, string>();
        foreach (var (tool, needed) in new[] { ("nginx", needsOrigin), ("squid", needsLoad), ("wrk", options.Includes(BenchFigures.Http1k) || options.Includes(BenchFigures.Http10m)) })
        {
            if (needed)
            {
                if (LabPrerequisites.FindOnPath(tool) is { } found)
                {
                    tools[tool] = found;
                }
                else
                {
                    missing.Add(tool);
                }
            }
        }

        if (missing.Count > 0)
        {
            await error.WriteLineAsync($"error: bench needs {string.Join(", ", missing)} on PATH; install the Debian packages: apt-get install {string.Join(' ', missing)}").ConfigureAwait(false);
            return ExitCodes.Failed;
        }

        var proxyAssembly = Path.Combine(AppContext.BaseDirectory, "ProxyInstance.dll");
        if (!File.Exists(proxyAssembly))
        {
            await error.WriteLineAsync($"error: {proxyAssembly} is missing; build the load tests (dotnet build load-tests), which builds the proxy instance next to them.").ConfigureAwait(false);
            return ExitCodes.Failed;
        }

        using var workspace = BenchWorkspace.Create();
        var servers = new List<BenchProcess>();
        var serving = new Dictionary<string, BenchProcess>();
        var cells = new List<BenchCell>();
        var failures = new Dictionary<string, string>();
        IdleTunnelsResult? idle = null;
        MicroBenchmarkResult? policy = null;
        try
        {
            if (needsOrigin)
            {
                await output.WriteLineAsync($"bench: starting nginx (origin), {(needsLoad ? "Squid and " : "")}the proxy instance on 127.0.0.1, in {workspace.Directory}").ConfigureAwait(false);
                servers.Add(await StartAsync("nginx", tools["nginx"], ["-e", Path.Combine(workspace.Directory, "nginx", "error.log"), "-c", workspace.NginxConfig],
                    workspace, null, cancellationToken).ConfigureAwait(false));
            }

            // First, on a proxy of its own, freshly started: a .NET process keeps the memory an earlier load made it
            // take, which would sit in the idle baseline.
            if (options.Includes(BenchFigures.IdleTunnels))
            {
                using var idleProxy = await StartAsync("proxy instance (idle tunnels)", LabPrerequisites.DotnetHost(),
                    [proxyAssembly, "--config", workspace.IdleProxyConfig], workspace, workspace.ProxyEndPoint, cancellationToken).ConfigureAwait(false);
                try
                {
                    idle = await Bench.IdleTunnels.RunAsync(new IdleTunnelsOptions(workspace.ProxyEndPoint, idleProxy.Id, workspace.HttpAuthority,
                        options.IdleTunnels, options.IdleHold, TimeSpan.FromSeconds(1), 128), output, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is BenchException or IOException or System.Net.Sockets.SocketException)
                {
                    failures[BenchFigures.IdleTunnels] = exception.Message;
                }
            }

            if (needsLoad)
            {
                servers.Add(serving[BenchSubjects.Squid] = await StartAsync("squid", tools["squid"], ["-N", "-f", workspace.SquidConfig], workspace,
                    workspace.SquidEndPoint, cancellationToken).ConfigureAwait(false));
                servers.Add(serving[BenchSubjects.Proxy] = await StartAsync("proxy instance", LabPrerequisites.DotnetHost(), [proxyAssembly, "--config",
                    workspace.ProxyConfig], workspace, workspace.ProxyEndPoint, cancellationToken).ConfigureAwait(false));
            }

            if (needsLoad)
            {
                // A proxy's first seconds under load are not its steady state (the proxy's JIT compiles its hot paths
                // again, optimised, once they are hot): load both, plain and through tunnels, before the first cell.
                await output.WriteLineAsync($"bench: warming up the proxy instance and Squid ({2 * ProcessWarmUp(options).TotalSeconds:0} s each)").ConfigureAwait(false);
                foreach (var subject in new[] { BenchSubjects.Proxy, BenchSubjects.Squid })
                {
                    await WarmUpAsync(subject, ProcessWarmUp(options), options, workspace, cancellationToken).ConfigureAwait(false);
                }
            }

            for (var round = 1; round <= options.Rounds; round++)
            {
                foreach (var figure in LoadFigures.Where(options.Includes))
                {
                    // The subjects take turns going first, round by round.
                    var subjects = BenchSubjects.All.Skip((round - 1) % 3).Concat(BenchSubjects.All.Take((round - 1) % 3));
                    foreach (var subject in subjects)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        await output.WriteAsync($"bench: round {round}/{options.Rounds}, {figure} via {subject} ... ").ConfigureAwait(false);
                        try
                        {
                            var cell = await MeasureAsync(figure, subject, round, options, workspace, serving.GetValueOrDefault(subject), cancellationToken).ConfigureAwait(false);
                            cells.Add(cell);
                            await output.WriteLineAsync(Describe(cell)).ConfigureAwait(false);
                        }
                        catch (BenchException exception)
                        {
                            failures.TryAdd(figure, $"{subject}: {exception.Message}");
                            await output.WriteLineAsync("failed").ConfigureAwait(false);
                        }
                    }
                }
            }

            if (options.Includes(BenchFigures.PolicyDecision))
            {
                try
                {
                    policy = PolicyDecisionRun.Run(options.Quick, Path.Combine(options.OutDirectory, "benchmarkdotnet"), output, cancellationToken);
                }
                catch (InvalidOperationException exception)
                {
                    failures[BenchFigures.PolicyDecision] = exception.Message;
                }
            }
        }
        catch (BenchException exception)
        {
            await error.WriteLineAsync($"error: {exception.Message}").ConfigureAwait(false);
            return ExitCodes.Failed;
        }
        finally
        {
            foreach (var server in Enumerable.Reverse(servers))
            {
                server.Dispose();
            }
        }

        var rows = BenchTable.Rows(cells, idle, policy, failures);
        var results = new BenchResults
        {
            Environment = RunEnvironmentProbe.Capture(options.CommandLine, startedAt),
            Settings = new BenchSettings(options.CellDuration.TotalSeconds, options.WarmUp.TotalSeconds, options.Rounds, BenchOptions.SmallConnections,
                BenchOptions.BulkConnections, BenchOptions.NewTunnelUsers, options.IdleTunnels, options.IdleHold.TotalSeconds,
                OptimizedBuild.Of(typeof(BenchRunner).Assembly), Version("squid", ["-v"]), Version("nginx", ["-v"]), Version("wrk", ["-v"]),
                options.CellDurationOf(BenchFigures.HttpUpload100m).TotalSeconds),
            Rows = rows,
            Cells = cells,
            IdleTunnels = idle,
            PolicyDecision = policy,
            Failures = failures,
        };
        Directory.CreateDirectory(options.OutDirectory);
        await File.WriteAllTextAsync(Path.Combine(options.OutDirectory, "bench.json"), ResultsJson.Serialize(results), CancellationToken.None).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(options.OutDirectory, "bench.md"), MarkdownReport(results), CancellationToken.None).ConfigureAwait(false);
        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteAsync(BenchTable.Text(rows)).ConfigureAwait(false);
        await output.WriteLineAsync($"\nbench: wrote bench.json and bench.md to {options.OutDirectory}").ConfigureAwait(false);
        var unclean = Unclean(cells, idle, failures);
        if (unclean.Count > 0)
        {
            await error.WriteLineAsync($"error: not measured cleanly: {string.Join(", ", unclean)} (see the notes above)").ConfigureAwait(false);
            return ExitCodes.Failed;
        }

        return ExitCodes.Ok;
    }

    /// <summary>The figures that could not be measured, or were measured with errors: a figure from a run that failed is no figure.</summary>
    public static IReadOnlyList<string> Unclean(IReadOnlyList<BenchCell> cells, IdleTunnelsResult? idle, IReadOnlyDictionary<string, string> failures)
    {
        ArgumentNullException.ThrowIfNull(cells);
        ArgumentNullException.ThrowIfNull(failures);
        var unclean = cells.Where(c => c.Errors > 0).Select(c => c.Figure).Concat(failures.Keys).ToHashSet();
        if (idle is not null && (idle.Opened == 0 || idle.Opened != idle.Attempted || idle.Verified != idle.Opened))
        {
            unclean.Add(BenchFigures.IdleTunnels);
        }

        return [.. BenchFigures.All.Where(unclean.Contains)];
    }

    private static TimeSpan ProcessWarmUp(BenchOptions options) => options.Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(10);

    private static async Task WarmUpAsync(string subject, TimeSpan duration, BenchOptions options, BenchWorkspace workspace, CancellationToken cancellationToken)
    {
        var through = subject == BenchSubjects.Proxy ? workspace.ProxyEndPoint : workspace.SquidEndPoint;
        var script = WrkLoad.WriteScript(workspace.Directory, $"warm-up-{subject}", $"http://{workspace.HttpAuthority}/1k", workspace.HttpAuthority);
        await WrkLoad.RunAsync(script, new Uri($"http://{through}/"), BenchOptions.SmallConnections, duration, cancellationToken).ConfigureAwait(false);
        await RunLoadAsync("new-connection", $"https://{workspace.HttpsAuthority}", through, BenchOptions.NewTunnelUsers, duration, options with { WarmUp = TimeSpan.Zero },
            workspace, cancellationToken).ConfigureAwait(false);
    }

    private static string Describe(BenchCell cell) => cell.Errors > 0
        ? string.Create(CultureInfo.InvariantCulture, $"{cell.Value:N1}, {cell.Errors:N0} errors ({cell.ErrorDetail})")
        : cell.P99Milliseconds is { } p99
            ? string.Create(CultureInfo.InvariantCulture, $"{cell.Value:N1} (p99 {p99:0.00} ms)")
            : string.Create(CultureInfo.InvariantCulture, $"{cell.Value:N1}");

    /// <summary>The Markdown the README's benchmark section shows: the table, then how it was taken.</summary>
    public static string MarkdownReport(BenchResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var settings = results.Settings;
        var environment = results.Environment;
        return BenchTable.Markdown(results.Rows) + string.Create(CultureInfo.InvariantCulture, $"""

            Medians of {settings.Rounds} interleaved rounds of {settings.CellDurationSeconds:0.#} s cells{LargeUploadCells(settings)} (after {settings.WarmUpSeconds:0.#} s of warm-up each),
            on {environment.ProcessorCount} CPUs, {environment.Kernel}, {environment.DotNet}, commit {environment.Commit ?? "unknown"};
            {settings.Squid}, {settings.Nginx}, {settings.Wrk}.
            The proxy instance runs with `SocketThreads: {BenchWorkspace.ProxySocketThreads}`, as Squid runs one worker; every process shares the same CPUs.
            Command: `{environment.Command}`

            """);
    }

    private static string LargeUploadCells(BenchSettings settings) =>
        settings.LargeUploadCellDurationSeconds == settings.CellDurationSeconds
            ? ""
            : string.Create(CultureInfo.InvariantCulture, $" ({settings.LargeUploadCellDurationSeconds:0.#} s for the 100 MiB uploads)");

    private static string Version(string tool, string[] arguments)
    {
        try
        {
            var result = ProcessRunner.Run(tool, arguments, TimeSpan.FromSeconds(5));
            var text = result.Output + result.Error;
            var first = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? tool;
            // wrk follows its version with its copyright on the same line.
            var copyright = first.IndexOf(" Copyright", StringComparison.Ordinal);
            return copyright > 0 ? first[..copyright] : first;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return $"{tool} (not found)";
        }
    }

    private static async Task<BenchProcess> StartAsync(string name, string program, string[] arguments, BenchWorkspace workspace, IPEndPoint? proxy,
        CancellationToken cancellationToken)
    {
        var log = Path.Combine(workspace.Directory, $"{name.Replace(' ', '-')}.out");
        var process = BenchProcess.Start(name, program, arguments, log);
        try
        {
            var url = proxy is null
                ? new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{workspace.OriginHttpPort}/1k"))
                : new Uri($"http://{workspace.HttpAuthority}/1k");
            await process.WaitReadyAsync(ct => AnswersAsync(url, proxy, ct), StartTimeout, cancellationToken).ConfigureAwait(false);
            return process;
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    private static async Task<bool> AnswersAsync(Uri url, IPEndPoint? proxy, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler { UseProxy = proxy is not null, Proxy = proxy is null ? null : new WebProxy($"http://{proxy}") };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await client.GetAsync(url, cancellationToken).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <param name="server">The proxy process serving the cell, whose CPU time is counted; null for the direct subject.</param>
    private static async Task<BenchCell> MeasureAsync(string figure, string subject, int round, BenchOptions options, BenchWorkspace workspace,
        BenchProcess? server, CancellationToken cancellationToken)
    {
        IPEndPoint? through = subject switch
        {
            BenchSubjects.Proxy => workspace.ProxyEndPoint,
            BenchSubjects.Squid => workspace.SquidEndPoint,
            _ => null,
        };
        switch (figure)
        {
            case BenchFigures.Http1k or BenchFigures.Http10m:
            {
                var (path, connections) = figure == BenchFigures.Http1k ? ("/1k", BenchOptions.SmallConnections) : ("/10m", BenchOptions.BulkConnections);
                var script = through is null
                    ? WrkLoad.WriteScript(workspace.Directory, $"{figure}-{subject}", path, string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{workspace.OriginHttpPort}"))
                    : WrkLoad.WriteScript(workspace.Directory, $"{figure}-{subject}", $"http://{workspace.HttpAuthority}{path}", workspace.HttpAuthority);
                var target = new Uri(through is null ? string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{workspace.OriginHttpPort}/") : $"http://{through}/");
                if (options.WarmUp > TimeSpan.Zero)
                {
                    await WrkLoad.RunAsync(script, target, connections, options.WarmUp, cancellationToken).ConfigureAwait(false);
                }

                var cpuBefore = server?.CpuTime();
                var allocatedBefore = await AllocatedAsync(subject, workspace, cancellationToken).ConfigureAwait(false);
                var result = await WrkLoad.RunAsync(script, target, connections, options.CellDuration, cancellationToken).ConfigureAwait(false);
                var allocatedAfter = await AllocatedAsync(subject, workspace, cancellationToken).ConfigureAwait(false);
                var value = figure == BenchFigures.Http1k ? result.RequestsPerSecond : result.MegabytesPerSecond;
                return new BenchCell(figure, subject, round, value, result.P99Milliseconds, result.Requests, result.Errors,
                    result.Errors > 0 ? result.DescribeErrors() : null, CpuPer(server, cpuBefore, result.Requests),
                    ProxyAllocations.PerRequest(allocatedBefore, allocatedAfter, result.Requests));
            }

            default:
            {
                var (scenario, users) = figure switch
                {
                    BenchFigures.Https10m => ("bulk", BenchOptions.BulkConnections),
                    BenchFigures.NewTunnels => ("new-connection", BenchOptions.NewTunnelUsers),
                    _ => ("upload", BenchOptions.UploadConnections),
                };
                var url = figure is BenchFigures.HttpUpload1m or BenchFigures.HttpUpload100m
                    ? through is null
                        ? string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{workspace.OriginHttpPort}")
                        : $"http://{workspace.HttpAuthority}"
                    : through is null
                        ? string.Create(CultureInfo.InvariantCulture, $"https://127.0.0.1:{workspace.OriginHttpsPort}")
                        : $"https://{workspace.HttpsAuthority}";
                int? uploadBytes = scenario == "upload" ? BenchFigures.UploadBytes(figure) : null;
                var cpuBefore = server?.CpuTime();
                var allocatedBefore = await AllocatedAsync(subject, workspace, cancellationToken).ConfigureAwait(false);
                var run = await RunLoadAsync(scenario, url, through, users, options.CellDurationOf(figure), options, workspace, cancellationToken, uploadBytes).ConfigureAwait(false);
                var allocatedAfter = await AllocatedAsync(subject, workspace, cancellationToken).ConfigureAwait(false);
                var result = run.Results[0];
                var errors = result.Errors.Values.Sum();
                var value = figure == BenchFigures.NewTunnels ? result.AchievedRate : result.ThroughputMBps;
                // The run's own warm-up is in its process's lifetime too, so its requests count here.
                var served = result.SucceededIncludingWarmUp + result.FailedIncludingWarmUp;
                return new BenchCell(figure, subject, round, value, result.Uncorrected.P99Ms, result.Requests, errors,
                    errors > 0 ? string.Join(", ", result.Errors.Where(e => e.Value > 0).Select(e => $"{e.Key} {e.Value}")) : null,
                    CpuPer(server, cpuBefore, served), ProxyAllocations.PerRequest(allocatedBefore, allocatedAfter, served));
            }
        }
    }

    private static async Task<double?> AllocatedAsync(string subject, BenchWorkspace workspace, CancellationToken cancellationToken) =>
        subject == BenchSubjects.Proxy ? await ProxyAllocations.ReadAsync(workspace.ProxyAdminPort, cancellationToken).ConfigureAwait(false) : null;

    private static double? CpuPer(BenchProcess? server, TimeSpan? before, long requests) =>
        server is null || before is null || requests <= 0 ? null : (server.CpuTime() - before.Value).TotalMicroseconds / requests;

    /// <summary>Runs this program's own <c>run</c> in a process of its own, so that its work and garbage are its own, and reads its JSON.</summary>
    /// <param name="uploadBytes">upload: the body of each request.</param>
    private static async Task<RunResults> RunLoadAsync(string scenario, string url, IPEndPoint? proxy, int users, TimeSpan duration, BenchOptions options,
        BenchWorkspace workspace, CancellationToken cancellationToken, int? uploadBytes = null)
    {
        var json = Path.Combine(workspace.Directory, $"run-{Guid.NewGuid():N}.json");
        List<string> arguments =
        [
            typeof(BenchRunner).Assembly.Location, "run", "--scenario", scenario, "--url", url, "--proxy", proxy is null ? "direct" : $"http://{proxy}",
            "--concurrency", users.ToString(CultureInfo.InvariantCulture),
            "--duration", duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s",
            "--warmup", options.WarmUp.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s",
            "--ca-file", workspace.CaFile, "--timeout", "30s", "--json", json, "--quiet",
        ];
        if (uploadBytes is { } bytes)
        {
            arguments.AddRange(["--upload-size", bytes.ToString(CultureInfo.InvariantCulture)]);
        }

        var log = Path.Combine(workspace.Directory, $"run-{scenario}.out");
        using (var process = BenchProcess.Start($"load-tests run {scenario}", LabPrerequisites.DotnetHost(), [.. arguments], log))
        {
            await process.WaitForExitAsync(options.WarmUp + duration + TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        }

        if (!ResultsJson.TryReadFile<RunResults>(json, "run results", out var results, out var problem) || results.Results.Count == 0)
        {
            throw new BenchException($"run --scenario {scenario} wrote no results ({problem}); its output:\n{File.ReadAllText(log)}");
        }

        File.Delete(json);
        return results;
    }
}
