using System.Globalization;
using System.Text;
using System.Text.Json;
using EgressLab.ProxyInstance.AccessLog;
using EgressLab.ProxyInstance.Configuration;

namespace EgressLab.ProxyInstance.Allowlist;

/// <summary>Standard input, output and error of a command, so that tests can run it in-process.</summary>
internal sealed record CommandConsole(TextReader In, TextWriter Out, TextWriter Error);

/// <summary>Runs <c>allowlist suggest</c> and <c>allowlist diff</c>: reads the logs, prints the result, returns the exit code.</summary>
internal static class AllowlistCommand
{
    public const int Ok = 0;

    /// <summary>suggest: nothing to learn from; diff: something would be denied.</summary>
    public const int Findings = 1;

    public const int BadInput = 2;

    public static int Run(AllowlistArguments arguments, CommandConsole console, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(clock);
        if (arguments.Action == AllowlistAction.Help)
        {
            console.Out.WriteLine(AllowlistArguments.Usage);
            return Ok;
        }

        if (TrafficLog.CheckReadable(arguments.From) is { } unreadable)
        {
            console.Error.WriteLine($"error: {unreadable}");
            return BadInput;
        }

        try
        {
            return arguments.Action == AllowlistAction.Suggest ? Suggest(arguments, console, clock) : Diff(arguments, console, clock);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // A log that vanished, cannot be read, or is not the gzip file its name says.
            console.Error.WriteLine($"error: reading the access logs failed: {ex.Message}");
            return BadInput;
        }
    }

    private static int Suggest(AllowlistArguments arguments, CommandConsole console, TimeProvider clock)
    {
        var summary = new TrafficSummary();
        var suggester = new AllowlistSuggester(new SuggestionSettings(arguments.Siblings, arguments.ClientPrefix, arguments.ClientPrefix6));
        int denied = 0, notJudged = 0;
        foreach (var request in TrafficLog.Read(arguments.From, console.In, arguments.Since?.Resolve(clock), summary))
        {
            if (request.Decision == LoggedDecision.Denied && !arguments.IncludeDenied)
            {
                denied++;
            }
            else if (request.Decision == LoggedDecision.NotJudged || request.Target is null || request.Client is null)
            {
                notJudged++;
            }
            else
            {
                suggester.Add(request);
            }
        }

        WriteNotes(console.Error, summary);
        var skipped = Skipped(summary, arguments.Since is not null, denied, arguments.IncludeDenied ? null : "--include-denied learns from them too", notJudged);
        if (suggester.Requests == 0)
        {
            console.Error.WriteLine($"Nothing to suggest: no request in {Sources(arguments.From)} went through the proxy ({summary.Lines} request line(s) read{skipped}).");
            return Findings;
        }

        var rules = suggester.Suggest();

        // The promise is that the output is a configuration the proxy accepts as it is; check it with the proxy's compiler.
        var errors = new List<ConfigError>();
        if (!PolicyCompiler.TryCompile(new PolicyOptions { Rules = rules }, $"{ProxyOptions.SectionName}:Policy", errors, out _))
        {
            console.Error.WriteLine("error: the logs hold destinations or methods no rule can be written for:");
            foreach (var error in errors)
            {
                console.Error.WriteLine($"  {ConfigPath.ToJsonPath(error.Path)}: {error.Message}");
            }

            return BadInput;
        }

        using (var buffer = new MemoryStream())
        {
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                AllowlistSuggester.Write(json, rules);
            }

            console.Out.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        }

        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rules.Count} rule(s) from {suggester.Requests} request(s) in {Sources(arguments.From)}{skipped}."));
        return Ok;
    }

    private static int Diff(AllowlistArguments arguments, CommandConsole console, TimeProvider clock)
    {
        var source = new ConfigSource(arguments.ConfigPath);
        var loaded = SettingsLoader.Load(source);
        if (loaded.Settings is not { } candidate)
        {
            ConfigCheck.WriteProblems(console.Error, source, loaded.Errors, "the candidate cannot be judged, and the proxy would refuse to start on it");
            return BadInput;
        }

        var summary = new TrafficSummary();
        var diff = new AllowlistDiff(candidate);
        var notJudged = 0;
        foreach (var request in TrafficLog.Read(arguments.From, console.In, arguments.Since?.Resolve(clock), summary))
        {
            if (!diff.Add(request))
            {
                notJudged++;
            }
        }

        WriteNotes(console.Error, summary);
        var skipped = Skipped(summary, arguments.Since is not null, 0, null, notJudged);
        if (diff.Judged == 0)
        {
            console.Error.WriteLine($"error: no request in {Sources(arguments.From)} can be judged ({summary.Lines} request line(s) read{skipped}); nothing to compare.");
            return BadInput;
        }

        diff.Write(console.Out, source.Describe(), arguments.ShowAllowed);
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{diff.Judged} request(s) judged against {source.Describe()} ({candidate.Policy.RuleCount} rule(s)){skipped}."));
        return diff.WouldDenyCount > 0 ? Findings : Ok;
    }

    private static void WriteNotes(TextWriter error, TrafficSummary summary)
    {
        foreach (var note in summary.MalformedNotes)
        {
            error.WriteLine($"warning: {note}");
        }
    }

    /// <summary>"; skipped: ..." listing what was left out and why, or nothing when nothing was.</summary>
    private static string Skipped(TrafficSummary summary, bool since, int denied, string? deniedHint, int notJudged)
    {
        var parts = new List<string>();
        if (since && summary.BeforeSince > 0)
        {
            parts.Add($"{summary.BeforeSince} before --since");
        }

        if (denied > 0)
        {
            parts.Add($"{denied} denied by the policy ({deniedHint})");
        }

        if (notJudged > 0)
        {
            parts.Add($"{notJudged} that never reached the policy or name no client or valid destination");
        }

        if (summary.Malformed > 0)
        {
            parts.Add($"{summary.Malformed} malformed");
        }

        return parts.Count == 0 ? string.Empty : "; skipped: " + string.Join(", ", parts);
    }

    private static string Sources(IReadOnlyList<string> from) =>
        string.Join(", ", from.Select(f => f == "-" ? "standard input" : $"'{f}'"));
}
