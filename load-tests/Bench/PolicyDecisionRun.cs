using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using EgressLab.ProxyInstance.Policy;

namespace EgressLab.LoadTests.Bench;

/// <summary>
/// Runs <see cref="PolicyDecisionBenchmark"/> under BenchmarkDotNet, in this process, and reads the figures back from
/// BenchmarkDotNet's JSON report (<see cref="BenchmarkDotNetReport"/>).
/// </summary>
/// <remarks>
/// In-process (BenchmarkDotNet's emit toolchain) rather than in a generated project: <c>bench</c> already runs from a
/// Release build (a Debug build rebuilds and re-runs itself), and the default toolchain would build the proxy, the
/// provisioner and the load tests a second time, in a generated project, for every run and every test. Warm-up, pilot,
/// the subtraction of an empty invocation's overhead, the statistics and the memory diagnoser are BenchmarkDotNet's own
/// either way (decision 0017).
/// </remarks>
internal static class PolicyDecisionRun
{
    public const string Name = "policy decision";

    /// <summary>Runs the benchmark and returns its figures.</summary>
    /// <param name="quick">Three short iterations that prove the benchmark runs and decides correctly; its times mean little.
    /// Otherwise BenchmarkDotNet's default job, which picks its own warm-up and iteration counts (half a minute or so).</param>
    /// <param name="artifactsDirectory">Where BenchmarkDotNet writes its log and its reports; created if missing.</param>
    /// <param name="progress">Receives two lines: where the log goes, and the result.</param>
    /// <param name="cancellationToken">Checked before the run; a started run goes to its end.</param>
    /// <exception cref="InvalidOperationException">The benchmark failed (a request decided otherwise than expected, or no report).</exception>
    public static MicroBenchmarkResult Run(bool quick, string artifactsDirectory, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(artifactsDirectory);
        ArgumentNullException.ThrowIfNull(progress);
        cancellationToken.ThrowIfCancellationRequested();

        // Checked here too, so that a wrong decision is reported as such rather than as a benchmark without a result.
        var workload = PolicyDecisionWorkload.Create(PolicyDecisionBenchmark.Domains);
        PolicyDecisionWorkload.Verify(workload.Policy, workload.Queries);

        var optimized = OptimizedBuild.Of(typeof(CompiledPolicy).Assembly) && OptimizedBuild.Of(typeof(PolicyDecisionBenchmark).Assembly);
        Directory.CreateDirectory(artifactsDirectory);

        // A report left by an earlier run into the same directory must not be taken for this run's.
        var resultsDirectory = Path.Combine(artifactsDirectory, "results");
        if (Directory.Exists(resultsDirectory))
        {
            foreach (var stale in Directory.GetFiles(resultsDirectory, "*" + BenchmarkDotNetReport.FileSuffix))
            {
                File.Delete(stale);
            }
        }

        progress.WriteLine($"{Name}: BenchmarkDotNet, in-process{(quick ? ", quick" : "")}; its log and reports go to {artifactsDirectory}");
        var summary = BenchmarkRunner.Run<PolicyDecisionBenchmark>(Config(quick, optimized, artifactsDirectory));

        var reports = Directory.Exists(summary.ResultsDirectoryPath)
            ? Directory.GetFiles(summary.ResultsDirectoryPath, "*" + BenchmarkDotNetReport.FileSuffix)
            : [];
        if (reports.Length != 1)
        {
            throw new InvalidOperationException(
                $"BenchmarkDotNet wrote {reports.Length} JSON reports to {summary.ResultsDirectoryPath}, expected one; see its log {summary.LogFilePath}.");
        }

        var result = BenchmarkDotNetReport.Read(File.ReadAllText(reports[0]), reports[0], nameof(PolicyDecisionBenchmark.Decide), Name, optimized);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {result.MeanNanoseconds:0.#} ns ± {result.ErrorNanoseconds:0.#} ns, {result.AllocatedBytesPerOperation:0.#} B allocated, from {reports[0]}"));
        return result;
    }

    private static ManualConfig Config(bool quick, bool optimized, string artifactsDirectory)
    {
        var job = Job.Default.WithToolchain(InProcessEmitToolchain.Instance);
        if (quick)
        {
            job = job.WithWarmupCount(1).WithIterationCount(3).WithIterationTime(TimeInterval.FromMilliseconds(10));
        }

        var config = ManualConfig.CreateEmpty()
            .AddJob(job.WithId(quick ? "quick" : "default"))
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddExporter(JsonExporter.Brief)

            // BenchmarkDotNet's own log file keeps the whole run; the console gets only the two progress lines.
            .AddLogger(NullLogger.Instance)
            .WithArtifactsPath(artifactsDirectory)
            .WithOptions(ConfigOptions.JoinSummary);

        // A Debug build (the tests') may run, to prove the benchmark works; its figure is marked not optimised and
        // never judged.
        return optimized ? config : config.WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}
