using System.Globalization;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Cli;

/// <summary>The human summary of a run, printed at its end.</summary>
internal static class RunTable
{
    public static void Write(TextWriter output, RunResults results, int? knee)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(results);
        output.WriteLine($"url {results.Url}  proxy {results.Proxy ?? "none (direct)"}");
        output.WriteLine();
        output.WriteLine($"{"scenario",-15} {"model",-6} {"offered/s",10} {"achieved/s",11} {"requests",9} {"late",6} {"dropped",8} {"errors",8} {"error%",7} {"MB/s",9}");
        foreach (var result in results.Results)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Scenario,-15} {Model(result),-6} {Rate(result.OfferedRate),10} {result.AchievedRate,11:0.0} {result.Requests,9} {result.LateSends,6} {result.DroppedSends,8} {result.ErrorCount(),8} {result.ErrorPercent(),7:0.00} {result.ThroughputMBps,9:0.000}"));
        }

        // The latency table is for the run that thresholds judge: the only one, or the ladder's knee.
        var judged = results.Results.Count == 0 ? null : results.Results[Math.Clamp(knee ?? 0, 0, results.Results.Count - 1)];
        if (judged is not null)
        {
            output.WriteLine();
            var title = results.Ladder is null ? "latency ms" : $"latency ms at {Rate(judged.OfferedRate)}/s";
            output.WriteLine($"{title,-22} {"p50",9} {"p90",9} {"p99",9} {"p99.9",9} {"max",9} {"mean",9}");
            Latency(output, "corrected", judged.Corrected);
            Latency(output, "uncorrected", judged.Uncorrected);
            if (judged.Phases is { Count: > 0 } phases)
            {
                foreach (var (name, summary) in phases)
                {
                    Latency(output, "  " + name, summary);
                }
            }

            if (judged.Errors.Count > 0)
            {
                output.WriteLine();
                output.WriteLine("errors: " + string.Join(", ", judged.Errors.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Key} {e.Value}"))));
            }
        }

        if (results.Ladder is { } ladder)
        {
            output.WriteLine();
            output.WriteLine($"{"ladder offered/s",-17} {"achieved/s",11} {"p99 ms",9} {"error%",7}  verdict");
            foreach (var step in ladder)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{Rate(step.OfferedRate),-17} {step.AchievedRate,11:0.0} {step.P99Ms,9:0.000} {step.ErrorRate * 100,7:0.00}  {(step.Saturated ? "saturated" : "ok")}"));
            }

            output.WriteLine(knee is { } index
                ? $"knee: {Rate(ladder[index].OfferedRate)} req/s (the highest rate that was not saturated)"
                : "knee: none (the first rate already saturated the path)");
        }

        if (results.Thresholds.Count > 0)
        {
            output.WriteLine();
            foreach (var threshold in results.Thresholds)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(threshold.Passed ? "pass" : "FAIL")}  {threshold.Expression}  (actual {threshold.Actual:0.###})"));
            }
        }
    }

    private static void Latency(TextWriter output, string label, LatencySummary summary) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label,-22} {summary.P50Ms,9:0.000} {summary.P90Ms,9:0.000} {summary.P99Ms,9:0.000} {summary.P999Ms,9:0.000} {summary.MaxMs,9:0.000} {summary.MeanMs,9:0.000}"));

    private static string Model(ScenarioResult result) => result.Model == LoadModel.Open ? "open" : "closed";

    private static string Rate(double? rate) => rate is { } value ? value.ToString("0.##", CultureInfo.InvariantCulture) : "-";
}
