using System.Text.RegularExpressions;

namespace EgressLab.Provisioner.Lab;

/// <summary>
/// Labs left behind by runs that were killed before their own <c>lab down</c>: test runs and lab comparisons give each
/// lab a prefix of its own, a family name and a six-digit hex id (<c>eltest-1a2b3c</c>), and a run killed with its
/// host leaves that lab's namespaces and processes. This removes a family's labs whose namespaces are all older than
/// a given age, after which no run still uses them.
/// </summary>
/// <remarks>The age is the namespace's: <c>/run/netns</c> entries carry the time the namespace was made, and nothing can set it.</remarks>
internal static partial class StaleLabs
{
    private const string NetnsDirectory = "/run/netns";

    /// <summary>Removes the stale labs of <paramref name="family"/> and returns their prefixes.</summary>
    /// <param name="stateDirectoryOf">Where a lab of the family keeps its state, by id, so that it goes too.</param>
    public static IReadOnlyList<string> Remove(string family, Func<string, string> stateDirectoryOf, TimeSpan olderThan, TextWriter log)
    {
        ArgumentException.ThrowIfNullOrEmpty(family);
        ArgumentNullException.ThrowIfNull(stateDirectoryOf);
        ArgumentNullException.ThrowIfNull(log);
        var removed = new List<string>();
        foreach (var id in Find(family, olderThan))
        {
            var environment = new LabEnvironment($"{family}-{id}", stateDirectoryOf(id));
            var result = new LabController(environment, log, commandLog: null).Down();
            if (result.Succeeded)
            {
                removed.Add(environment.Prefix);
            }
        }

        return removed;
    }

    /// <summary>The ids of the family's labs none of whose namespaces is younger than <paramref name="olderThan"/>.</summary>
    private static IReadOnlyList<string> Find(string family, TimeSpan olderThan)
    {
        if (!Directory.Exists(NetnsDirectory))
        {
            return [];
        }

        var now = DateTime.UtcNow;
        return [.. Directory.GetFiles(NetnsDirectory, $"{family}-*")
            .Select(path => (Match: IdPattern().Match(Path.GetFileName(path)[(family.Length + 1)..]), Age: now - File.GetLastWriteTimeUtc(path)))
            .Where(entry => entry.Match.Success)
            .GroupBy(entry => entry.Match.Groups["id"].Value, StringComparer.Ordinal)
            .Where(lab => lab.All(entry => entry.Age > olderThan))
            .Select(lab => lab.Key)
            .Order(StringComparer.Ordinal)];
    }

    [GeneratedRegex("^(?<id>[0-9a-f]{6})-")]
    private static partial Regex IdPattern();
}
