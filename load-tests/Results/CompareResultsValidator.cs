using System.Globalization;

namespace EgressLab.LoadTests.Results;

/// <summary>
/// What JSON typing cannot catch in a <see cref="CompareResults"/>: references between its parts and values a report
/// cannot be made from. Every problem is reported, not just the first.
/// </summary>
internal static class CompareResultsValidator
{
    public static IReadOnlyList<string> Validate(CompareResults results)
    {
        var problems = new List<string>();
        if (results.Rounds < 1)
        {
            problems.Add($"rounds is {Text(results.Rounds)}; it must be 1 or more.");
        }

        if (results.Paths.Count == 0)
        {
            problems.Add("paths is empty; a comparison needs at least one path.");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < results.Paths.Count; i++)
        {
            var path = results.Paths[i];
            if (path is null)
            {
                problems.Add($"paths[{Text(i)}] is null; remove it.");
            }
            else if (string.IsNullOrWhiteSpace(path.Id))
            {
                problems.Add($"paths[{Text(i)}] has no id; give it one such as l3, l4 or l7.");
            }
            else if (!ids.Add(path.Id))
            {
                problems.Add($"paths[{Text(i)}] repeats the id '{path.Id}'; path ids must be unique.");
            }
        }

        for (var i = 0; i < results.Cells.Count; i++)
        {
            var cell = results.Cells[i];
            if (cell is null)
            {
                problems.Add($"cells[{Text(i)}] is null; remove it.");
                continue;
            }

            if (!ids.Contains(cell.PathId))
            {
                problems.Add($"cells[{Text(i)}] names path '{cell.PathId}', which is not in paths.");
            }

            if (string.IsNullOrWhiteSpace(cell.Scenario))
            {
                problems.Add($"cells[{Text(i)}] has no scenario.");
            }

            if (cell.Result.CorrectedHistogram.Any(b => b is null) || cell.Result.Timeline.Any(p => p is null))
            {
                problems.Add($"cells[{Text(i)}] has a null histogram bucket or timeline point; remove it.");
            }

            if (cell.Result.Phases?.Values.Any(p => p is null) == true)
            {
                problems.Add($"cells[{Text(i)}] has a null phase; remove it.");
            }
        }

        foreach (var (pathId, steps) in results.Ladders)
        {
            if (!ids.Contains(pathId))
            {
                problems.Add($"ladders has an entry for path '{pathId}', which is not in paths.");
            }

            if (steps is null || steps.Any(s => s is null))
            {
                problems.Add($"ladders['{pathId}'] is or holds null; remove it.");
            }
        }

        for (var i = 0; i < results.Accounting.Count; i++)
        {
            var row = results.Accounting[i];
            if (row is null)
            {
                problems.Add($"accounting[{Text(i)}] is null; remove it.");
            }
            else if (!ids.Contains(row.PathId))
            {
                problems.Add($"accounting[{Text(i)}] names path '{row.PathId}', which is not in paths.");
            }
        }

        for (var i = 0; i < results.Probes.Count; i++)
        {
            var probe = results.Probes[i];
            if (probe is null || !ids.Contains(probe.PathId))
            {
                problems.Add($"probes[{Text(i)}] names path '{probe?.PathId}', which is not in paths.");
            }
            else if ((probe.Limit is null) == (probe.Idle is null))
            {
                problems.Add($"probes[{Text(i)}] ({probe.Scenario} on {probe.PathId}) must hold exactly one of limit and idle.");
            }
            else if (probe.Limit is { } limit && (limit.Opened < 0 || limit.Opened > limit.Attempts))
            {
                problems.Add($"probes[{Text(i)}] ({probe.Scenario} on {probe.PathId}) opened {Text(limit.Opened)} of {Text(limit.Attempts)} connections; it must be from 0 to the attempts.");
            }
        }

        return problems;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
