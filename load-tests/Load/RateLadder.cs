using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Load;

/// <summary>What a rate ladder found: every step's full result and verdict, and the knee.</summary>
/// <param name="Knee">The index of the knee in <paramref name="Steps"/>, or null when even the first step saturated.</param>
internal sealed record LadderOutcome(IReadOnlyList<ScenarioResult> Results, IReadOnlyList<LadderStep> Steps, int? Knee);

/// <summary>
/// Runs the open model at rising rates (each with its own warm-up and window) to find the knee: the highest rate the
/// path sustains. A step is saturated when it achieved less than 95% of the rate offered, when 1% or more of its requests
/// failed or were dropped, or when its corrected p99 exceeds max(20 ms, 5 × the first step's p99): latency that has
/// blown up against an unloaded baseline, with a floor so that sub-millisecond noise on a fast path is not a knee. The
/// ladder stops at the first saturated step: past the knee, more load only queues.
/// </summary>
internal static class RateLadder
{
    public const double AchievedShare = 0.95;
    public const double ErrorPercentLimit = 1.0;
    public const double P99Factor = 5.0;
    public const double P99FloorMs = 20.0;

    /// <param name="stepStarting">Told of each step's runner before it starts (for the progress line).</param>
    public static async Task<LadderOutcome> RunAsync(ILoadOperation operation, LoadPlan template, IReadOnlyList<double> rates,
        string scenario, Action<int, LoadRunner>? stepStarting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(rates);
        var results = new List<ScenarioResult>();
        var steps = new List<LadderStep>();
        double? baselineP99 = null;
        int? knee = null;
        for (var i = 0; i < rates.Count; i++)
        {
            var runner = LoadRunner.Create(operation, template with { Model = LoadModel.Open, Rate = rates[i] });
            stepStarting?.Invoke(i, runner);
            await runner.RunAsync(cancellationToken).ConfigureAwait(false);
            var result = runner.Recorder.ToResult(scenario);
            baselineP99 ??= result.Corrected.P99Ms;
            var step = Judge(result, baselineP99.Value);
            results.Add(result);
            steps.Add(step);
            if (step.Saturated)
            {
                break;
            }

            knee = i;
        }

        return new LadderOutcome(results, steps, knee);
    }

    public static LadderStep Judge(ScenarioResult result, double baselineP99Ms)
    {
        ArgumentNullException.ThrowIfNull(result);
        var offered = result.OfferedRate ?? 0;
        var errorPercent = result.ErrorPercent();
        var p99Bound = Math.Max(P99FloorMs, P99Factor * baselineP99Ms);
        var saturated = result.AchievedRate < AchievedShare * offered
            || errorPercent >= ErrorPercentLimit
            || result.Corrected.P99Ms > p99Bound;
        return new LadderStep(offered, result.AchievedRate, result.Corrected.P99Ms, errorPercent / 100.0, saturated);
    }
}
