namespace EgressLab.LoadTests.Results;

/// <summary>Figures derived from a <see cref="ScenarioResult"/>, defined once for thresholds, the ladder and reports.</summary>
internal static class ScenarioResultMetrics
{
    public static long ErrorCount(this ScenarioResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        long errors = 0;
        foreach (var count in result.Errors.Values)
        {
            errors += count;
        }

        return errors;
    }

    /// <summary>
    /// Failed requests plus dropped sends, over completed requests plus dropped sends, in percent: a send the open model
    /// had to drop is a request a user was not served, so it counts against the run as an error does.
    /// </summary>
    public static double ErrorPercent(this ScenarioResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var all = result.Requests + result.DroppedSends;
        return all == 0 ? 0 : 100.0 * (result.ErrorCount() + result.DroppedSends) / all;
    }
}
