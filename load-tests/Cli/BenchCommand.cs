using System.CommandLine;
using System.Globalization;
using EgressLab.LoadTests.Bench;
using EgressLab.LoadTests.Results;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Processes;

namespace EgressLab.LoadTests.Cli;

/// <summary>
/// <c>bench</c>: the proxy instance against Squid and a direct connection on loopback, with nginx as the origin,
/// figure by figure, each judged by a ratio from the same run. Exit codes as <see cref="BenchRunner"/>.
/// </summary>
internal static class BenchCommand
{
    private const string Description = """
        Measure the proxy instance side by side with Squid (started here with the same allowlist and its access log on)
        and with a direct connection, on loopback, with nginx as the origin: plain HTTP keep-alive 1 KiB requests/s and
        p99 (wrk, 32 connections), plain HTTP 10 MiB MB/s (wrk, 4 connections), HTTPS through CONNECT 10 MiB MB/s (run
        --scenario bulk), new tunnels per second (run --scenario new-connection: CONNECT, 200, TLS handshake, GET, close),
        the proxy's memory per idle open tunnel over a hold, and a micro-benchmark of one policy decision against a
        10,000-domain allowlist. The subjects take turns, round by round, and the table shows medians and the ratio each
        target is about. Writes bench.json and bench.md (the table in Markdown) into --out.

        Measures the Release build: run from a Debug build (as dotnet run does by default), it builds Release first and
        runs that. Needs nginx, squid and wrk on PATH (Debian packages nginx, squid, wrk).

        Exit status: 0 when every figure was measured cleanly, met or not; 1 when one could not be measured or had errors;
        2 for bad arguments.
        """;

    public static Command Create()
    {
        var duration = new Option<string?>("--duration", "-d") { Description = $"Measured time per cell: {DurationText.Forms}. The default is 10s (1s with --quick)." };
        var warmUp = new Option<string?>("--warmup") { Description = "Load before each cell, left out of it. The default is 2s (1s with --quick)." };
        var rounds = new Option<string?>("--rounds") { Description = "Rounds, each measuring every subject once per figure. The default is 3 (1 with --quick)." };
        var figures = new Option<string?>("--figures") { Description = $"Comma-separated, from {string.Join(", ", BenchFigures.All)}. The default is all of them." };
        var idleTunnels = new Option<string?>("--idle-tunnels") { Description = "Tunnels to hold open for the memory figure. The default is 10000 (300 with --quick); fewer when open-file limits do not allow them, as the table says." };
        var idleHold = new Option<string?>("--idle-hold") { Description = "How long to hold them, sampling the proxy's memory every second. The default is 60s (3s with --quick)." };
        var outDirectory = new Option<string?>("--out", "-o") { Description = "Where to write bench.json and bench.md. The default is bench-results." };
        var quick = new Option<bool>("--quick") { Description = "Short cells, one round, few idle tunnels and a short micro-benchmark: checks that the bench works; its figures are not for comparison." };
        var debugBuild = new Option<bool>("--debug-build") { Description = "Measure this build as it is, even when it is not optimised, instead of building Release first." };
        var command = new Command("bench", Description) { duration, warmUp, rounds, figures, idleTunnels, idleHold, outDirectory, quick, debugBuild };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var problems = new List<string>();
            var isQuick = parse.GetValue(quick);
            var options = new BenchOptions(
                Figures(parse.GetValue(figures), problems),
                Duration(parse.GetValue(duration), "--duration", TimeSpan.FromSeconds(isQuick ? 1 : 10), TimeSpan.FromSeconds(1), problems),
                Duration(parse.GetValue(warmUp), "--warmup", TimeSpan.FromSeconds(isQuick ? 1 : 2), TimeSpan.Zero, problems),
                Count(parse.GetValue(rounds), "--rounds", isQuick ? 1 : 3, 1, 100, problems),
                Count(parse.GetValue(idleTunnels), "--idle-tunnels", isQuick ? 300 : 10_000, 1, 100_000, problems),
                Duration(parse.GetValue(idleHold), "--idle-hold", TimeSpan.FromSeconds(isQuick ? 3 : 60), TimeSpan.FromSeconds(1), problems),
                Path.GetFullPath(parse.GetValue(outDirectory) ?? "bench-results"),
                parse.GetValue(debugBuild),
                isQuick,
                RunEnvironmentProbe.CommandLine("load-tests", parse.Tokens.Select(t => t.Value)));
            if (File.Exists(options.OutDirectory))
            {
                problems.Add($"--out {options.OutDirectory} is a file: give a directory.");
            }

            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await error.WriteLineAsync($"error: {problem}").ConfigureAwait(false);
                }

                return ExitCodes.BadInput;
            }

            if (!options.DebugBuild && !OptimizedBuild.Of(typeof(BenchCommand).Assembly))
            {
                return await RunReleaseAsync([.. parse.Tokens.Select(t => t.Value)], output, error, cancellationToken).ConfigureAwait(false);
            }

            return await new BenchRunner(output, error).RunAsync(options, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// Figures from a Debug build would measure the JIT's unoptimised code: build the Release configuration of the load
    /// tests (and with them the proxy instance) from the checkout this program was built from, and run its bench.
    /// </summary>
    private static async Task<int> RunReleaseAsync(string[] arguments, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var project = FindProject();
        if (project is null)
        {
            await error.WriteLineAsync("error: this is a Debug build and no checkout was found above it to build Release from; run from the checkout with " +
                "'dotnet run -c Release --project load-tests -- bench', or pass --debug-build to measure this build anyway.").ConfigureAwait(false);
            return ExitCodes.Failed;
        }

        var directory = Path.GetDirectoryName(project)!;
        await output.WriteLineAsync("bench: this is a Debug build; building Release (dotnet build -c Release load-tests) and measuring that").ConfigureAwait(false);
        var build = await RunAsync(LabPrerequisites.DotnetHost(), ["build", "-c", "Release", "-nologo", "-v", "quiet", project], output, cancellationToken).ConfigureAwait(false);
        if (build != 0)
        {
            await error.WriteLineAsync($"error: dotnet build -c Release {project} failed (exit {build})").ConfigureAwait(false);
            return ExitCodes.Failed;
        }

        var release = Path.Combine(directory, "bin", "Release", "net10.0", "LoadTests.dll");
        return await RunAsync(LabPrerequisites.DotnetHost(), [release, .. arguments], output, cancellationToken).ConfigureAwait(false);
    }

    private static string? FindProject()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "load-tests", "LoadTests.csproj");
            if (File.Exists(candidate) && File.Exists(Path.Combine(directory.FullName, "EgressLab.slnx")))
            {
                return candidate;
            }
        }

        return null;
    }

    private static async Task<int> RunAsync(string program, string[] arguments, TextWriter output, CancellationToken cancellationToken)
    {
        // Both streams to the one writer, as a terminal shows them; the runner passes them one line at a time.
        using var process = ProcessRunner.Start(program, arguments, output.WriteLine, output.WriteLine);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        process.WaitForExit();
        return process.ExitCode;
    }

    private static List<string> Figures(string? text, List<string> problems)
    {
        if (text is null)
        {
            return [.. BenchFigures.All];
        }

        var chosen = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        foreach (var unknown in chosen.Where(f => !BenchFigures.All.Contains(f)))
        {
            problems.Add($"--figures: '{unknown}' is not a figure; choose from {string.Join(", ", BenchFigures.All)}.");
        }

        if (chosen.Count == 0)
        {
            problems.Add("--figures is empty: name at least one figure.");
        }

        return [.. BenchFigures.All.Where(chosen.Contains)];
    }

    private static TimeSpan Duration(string? text, string option, TimeSpan fallback, TimeSpan least, List<string> problems)
    {
        if (text is null)
        {
            return fallback;
        }

        if (DurationText.TryParse(text, out var value) && value >= least && value <= TimeSpan.FromHours(1))
        {
            return value;
        }

        problems.Add($"{option} '{text}' must be a duration from {(least == TimeSpan.Zero ? "0s" : $"{least.TotalSeconds:0}s")} to 1h: use {DurationText.Forms}.");
        return fallback;
    }

    private static int Count(string? text, string option, int fallback, int least, int most, List<string> problems)
    {
        if (text is null)
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= least && value <= most)
        {
            return value;
        }

        problems.Add(string.Create(CultureInfo.InvariantCulture, $"{option} '{text}' must be a whole number from {least} to {most:N0}."));
        return fallback;
    }
}
