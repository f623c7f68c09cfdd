using System.Globalization;
using System.Net;
using EgressLab.ProxyInstance.AccessLog;
using EgressLab.ProxyInstance.Admission;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Policy;

namespace EgressLab.ProxyInstance.Allowlist;

/// <summary>Logged requests whose fate a candidate changes, gathered by destination and by what decides them.</summary>
/// <param name="Destination">Canonical <c>host:port</c>.</param>
/// <param name="DecidedBy">The candidate's rule, or its default action.</param>
internal sealed record DiffGroup(string Destination, string DecidedBy)
{
    public int Count { get; set; }
    public SortedSet<string> Methods { get; } = new(StringComparer.Ordinal);
    public HashSet<IPAddress> Clients { get; } = [];
}

/// <summary>
/// Judges logged requests with a candidate's policy, through the same decision the admission gate makes, and keeps
/// those whose fate changes: went through before and would be denied now, or (on request) the other way round.
/// </summary>
/// <remarks>
/// Only the policy is judged: rules and default action. What the proxy decides later, on the live connection (the
/// SSRF guard after DNS, the SNI check, limits), a log cannot replay.
/// </remarks>
internal sealed class AllowlistDiff(RuntimeSettings candidate)
{
    private readonly Dictionary<(string, string), DiffGroup> _wouldDeny = [];
    private readonly Dictionary<(string, string), DiffGroup> _wouldAllow = [];

    /// <summary>Requests judged: those that reached the policy and name their client.</summary>
    public int Judged { get; private set; }

    /// <summary>Requests that went through before and would go through with the candidate too.</summary>
    public int StillAllowed { get; private set; }

    public int StillDenied { get; private set; }

    public int WouldDenyCount => _wouldDeny.Values.Sum(g => g.Count);

    public int WouldAllowCount => _wouldAllow.Values.Sum(g => g.Count);

    /// <summary>Judges one request; false when it cannot be (it never reached the policy, or its line has no client).</summary>
    public bool Add(LoggedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Decision == LoggedDecision.NotJudged || request.Target is not { } target || request.Client is not { } client)
        {
            return false;
        }

        Judged++;
        var decision = AdmissionGate.Decide(candidate, client, request.User, request.Method, target);
        var before = request.WentThrough;
        // Judged as enforced: a candidate in report mode is being checked for what it would deny once it enforces.
        var allowed = decision.Action == PolicyAction.Allow;
        if (before == allowed)
        {
            if (before)
            {
                StillAllowed++;
            }
            else
            {
                StillDenied++;
            }

            return true;
        }

        var groups = before ? _wouldDeny : _wouldAllow;
        var key = (target.ToString(), Describe(decision));
        if (!groups.TryGetValue(key, out var group))
        {
            groups[key] = group = new DiffGroup(key.Item1, key.Item2);
        }

        group.Count++;
        group.Methods.Add(request.Method);
        group.Clients.Add(client);
        return true;
    }

    /// <summary>Groups of requests that went through and would be denied, the biggest first.</summary>
    public IReadOnlyList<DiffGroup> WouldDeny => Ordered(_wouldDeny);

    /// <summary>Groups of requests that were denied and would be allowed, the biggest first.</summary>
    public IReadOnlyList<DiffGroup> WouldAllow => Ordered(_wouldAllow);

    /// <summary>Writes the report: a table per change, biggest group first.</summary>
    public void Write(TextWriter output, string candidateName, bool showAllowed)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (WouldDenyCount == 0)
        {
            output.WriteLine($"{candidateName} would deny none of the {StillAllowed} logged request(s) that went through.");
        }
        else
        {
            output.WriteLine($"{candidateName} would deny {WouldDenyCount} logged request(s) that went through, to {_wouldDeny.Values.Select(g => g.Destination).Distinct().Count()} destination(s):");
            WriteTable(output, WouldDeny);
        }

        if (showAllowed)
        {
            output.WriteLine();
            if (WouldAllowCount == 0)
            {
                output.WriteLine($"{candidateName} would allow none of the {StillDenied} logged request(s) that were denied.");
            }
            else
            {
                output.WriteLine($"{candidateName} would allow {WouldAllowCount} logged request(s) that were denied:");
                WriteTable(output, WouldAllow);
            }
        }
    }

    private static void WriteTable(TextWriter output, IReadOnlyList<DiffGroup> groups)
    {
        var rows = groups.Select(g => new[]
        {
            g.Count.ToString(CultureInfo.InvariantCulture), g.Destination, string.Join(',', g.Methods), Clients(g.Clients), g.DecidedBy,
        }).ToList();
        string[] header = ["COUNT", "DESTINATION", "METHODS", "CLIENTS", "DECIDED BY"];
        var widths = Enumerable.Range(0, header.Length).Select(i => rows.Select(r => r[i].Length).Append(header[i].Length).Max()).ToArray();
        foreach (var row in rows.Prepend(header))
        {
            var cells = row.Select((cell, i) => i == 0 ? cell.PadLeft(widths[i]) : i == row.Length - 1 ? cell : cell.PadRight(widths[i]));
            output.WriteLine("  " + string.Join("  ", cells));
        }
    }

    // A few clients by name, then how many more: a busy destination must not make the line unreadable.
    private static string Clients(HashSet<IPAddress> clients)
    {
        const int Shown = 4;
        var sorted = clients.Select(c => c.ToString()).Order(StringComparer.Ordinal).ToList();
        return sorted.Count <= Shown ? string.Join(',', sorted) : $"{string.Join(',', sorted.Take(Shown))} +{sorted.Count - Shown} more";
    }

    private static string Describe(PolicyDecision decision) => decision.RuleName is { } rule
        ? $"rule '{rule}' ({decision.Reason})"
        : $"default action ({decision.Reason})";

    private static List<DiffGroup> Ordered(Dictionary<(string, string), DiffGroup> groups) =>
        [.. groups.Values.OrderByDescending(g => g.Count).ThenBy(g => g.Destination, StringComparer.Ordinal).ThenBy(g => g.DecidedBy, StringComparer.Ordinal)];
}
