using System.Globalization;
using System.Text.RegularExpressions;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Thresholds;

internal enum ThresholdMetric
{
    P50,
    P90,
    P99,
    P999,
    Max,
    Mean,
    Errors,
    Rate,
    Mbps,
}

internal enum ThresholdOperator
{
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// <summary>
/// A pass/fail condition from <c>--assert</c>: <c>&lt;metric&gt;&lt;op&gt;&lt;value&gt;</c>, such as <c>p99&lt;50ms</c> or
/// <c>errors&lt;1%</c>. Latency metrics are the corrected ones (what a user waited).
/// </summary>
/// <param name="Value">In the metric's unit: milliseconds, percent, requests/s or MB/s.</param>
internal sealed partial record Threshold(string Expression, ThresholdMetric Metric, ThresholdOperator Operator, double Value)
{
    public const string Grammar =
        "METRIC OP VALUE with OP one of <, <=, >, >= and METRIC one of: p50, p90, p99, p999, max, mean (corrected latency, " +
        "in ms or s: p99<50ms, max<1.5s), errors (failed and dropped requests in percent: errors<1%), rate (achieved " +
        "requests/s: rate>=95), mbps (MB/s down and up: mbps>100)";

    public static bool TryParse(string? text, out Threshold? threshold, out string? error)
    {
        threshold = null;
        var expression = text?.Trim() ?? string.Empty;
        var match = ExpressionPattern().Match(expression);
        if (!match.Success)
        {
            error = $"--assert '{expression}' is not a threshold; write {Grammar}.";
            return false;
        }

        var name = match.Groups["metric"].Value.ToLowerInvariant();
        ThresholdMetric? metric = name switch
        {
            "p50" => ThresholdMetric.P50,
            "p90" => ThresholdMetric.P90,
            "p99" => ThresholdMetric.P99,
            "p999" or "p99.9" => ThresholdMetric.P999,
            "max" => ThresholdMetric.Max,
            "mean" => ThresholdMetric.Mean,
            "errors" => ThresholdMetric.Errors,
            "rate" => ThresholdMetric.Rate,
            "mbps" => ThresholdMetric.Mbps,
            _ => null,
        };
        if (metric is null)
        {
            error = $"--assert '{expression}': unknown metric '{name}'; write {Grammar}.";
            return false;
        }

        var op = match.Groups["op"].Value switch
        {
            "<" => ThresholdOperator.Less,
            "<=" => ThresholdOperator.LessOrEqual,
            ">" => ThresholdOperator.Greater,
            _ => ThresholdOperator.GreaterOrEqual,
        };
        if (!double.TryParse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            error = $"--assert '{expression}': '{match.Groups["value"].Value}' is not a number; write {Grammar}.";
            return false;
        }

        var unit = match.Groups["unit"].Value.ToLowerInvariant();
        double? scaled = metric switch
        {
            ThresholdMetric.Errors => unit == "%" ? value : null,
            ThresholdMetric.Rate => unit is "" or "/s" ? value : null,
            ThresholdMetric.Mbps => unit is "" or "mb/s" ? value : null,
            _ => unit switch
            {
                "ms" => value,
                "s" => value * 1000,
                _ => null,
            },
        };
        if (scaled is null)
        {
            var units = metric switch
            {
                ThresholdMetric.Errors => "% (errors<1%)",
                ThresholdMetric.Rate => "none, requests per second (rate>=95)",
                ThresholdMetric.Mbps => "none, MB/s (mbps>100)",
                _ => $"ms or s ({name}<50ms, {name}<1.5s)",
            };
            var given = unit.Length == 0 ? "no unit" : $"unit '{unit}'";
            error = $"--assert '{expression}': {given} for {name}; its unit is {units}.";
            return false;
        }

        threshold = new Threshold(expression, metric.Value, op, scaled.Value);
        error = null;
        return true;
    }

    /// <summary>The metric's value in a result, in the metric's unit.</summary>
    public double ActualOf(ScenarioResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Metric switch
        {
            ThresholdMetric.P50 => result.Corrected.P50Ms,
            ThresholdMetric.P90 => result.Corrected.P90Ms,
            ThresholdMetric.P99 => result.Corrected.P99Ms,
            ThresholdMetric.P999 => result.Corrected.P999Ms,
            ThresholdMetric.Max => result.Corrected.MaxMs,
            ThresholdMetric.Mean => result.Corrected.MeanMs,
            ThresholdMetric.Errors => result.ErrorPercent(),
            ThresholdMetric.Rate => result.AchievedRate,
            ThresholdMetric.Mbps => result.ThroughputMBps,
            _ => throw new InvalidOperationException($"unknown metric {Metric}"),
        };
    }

    public ThresholdResult Evaluate(ScenarioResult result)
    {
        var actual = ActualOf(result);
        var passed = Operator switch
        {
            ThresholdOperator.Less => actual < Value,
            ThresholdOperator.LessOrEqual => actual <= Value,
            ThresholdOperator.Greater => actual > Value,
            _ => actual >= Value,
        };
        return new ThresholdResult(Expression, actual, passed);
    }

    /// <summary>"73.20 ms", "1.50 %", ...: an actual value with this metric's unit.</summary>
    public string Format(double actual) => Metric switch
    {
        ThresholdMetric.Errors => actual.ToString("0.###", CultureInfo.InvariantCulture) + " %",
        ThresholdMetric.Rate => actual.ToString("0.##", CultureInfo.InvariantCulture) + " req/s",
        ThresholdMetric.Mbps => actual.ToString("0.###", CultureInfo.InvariantCulture) + " MB/s",
        _ => actual.ToString("0.###", CultureInfo.InvariantCulture) + " ms",
    };

    [GeneratedRegex(@"^(?<metric>[A-Za-z][A-Za-z0-9.]*)\s*(?<op><=|>=|<|>)\s*(?<value>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(?<unit>[A-Za-z%/]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex ExpressionPattern();
}
