using System.Diagnostics;
using System.Text;
using EgressLab.Provisioner.Lab;

namespace EgressLab.Provisioner.Tests.Lab;

/// <summary>
/// Runs the provisioner as a process, the way a user does, against a lab of its own: a namespace prefix and
/// state directory unique to the test run, so a lab a user has up is never touched.
/// </summary>
internal sealed class LabRunner
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>The prefix family of the labs tests make: each lab is <c>eltest-</c> and an id of its own.</summary>
    public const string Family = "eltest";

    /// <summary>
    /// A test lab older than this belongs to a run that was killed before its teardown (no test run lasts this long):
    /// the first lab of a run removes those.
    /// </summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

    private static readonly Lazy<IReadOnlyList<string>> StaleRemoved =
        new(() => StaleLabs.Remove(Family, id => StateDirectoryOf(Family, id), StaleAfter, TextWriter.Null));

    public LabRunner()
        : this(Family)
    {
        _ = StaleRemoved.Value;
    }

    /// <summary>A lab of another family, for tests that must not meet the labs of other tests.</summary>
    public LabRunner(string family)
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        Prefix = $"{family}-{id}";
        StateDirectory = StateDirectoryOf(family, id);
    }

    public string Prefix { get; }

    public string StateDirectory { get; }

    /// <summary>The same lab, for driving the library in-process.</summary>
    public LabEnvironment Environment => new(Prefix, StateDirectory);

    public static string StateDirectoryOf(string family, string id) => Path.Combine("/run", $"egress-lab-{family}-{id}");

    public static string ProvisionerAssembly => Path.Combine(AppContext.BaseDirectory, "Provisioner.dll");

    /// <summary>Why the lab cannot run here (not root, tools missing), or null when it can: the provisioner's own check.</summary>
    public static string? Unavailable() => LabPrerequisites.Check() is { Count: > 0 } problems ? string.Join("; ", problems) + " (.ci/run runs as root and installs them)" : null;

    public Task<(int ExitCode, string Output)> RunAsync(params string[] arguments) => RunAsync(arguments, null);

    /// <summary>
    /// <c>lab up</c> through the library in this process, where the builder's options can be set (the CLI never
    /// sets them); bounded by <see cref="Timeout"/> like a CLI run.
    /// </summary>
    public Task<LabUpResult> UpInProcessAsync(LabBuilderOptions options) =>
        Task.Run(() => new LabController(Environment, TextWriter.Null, commandLog: null, options).Up(null), TestContext.Current.CancellationToken)
            .WaitAsync(Timeout, TestContext.Current.CancellationToken);

    public async Task<(int ExitCode, string Output)> RunAsync(string[] arguments, IReadOnlyDictionary<string, string>? variables, Action<Process>? started = null)
    {
        var start = new ProcessStartInfo(LabPrerequisites.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(ProvisionerAssembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["EGRESS_LAB_PREFIX"] = Prefix;
        start.Environment["EGRESS_LAB_STATE_DIR"] = StateDirectory;
        foreach (var (name, value) in variables ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        started?.Invoke(process);
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output + await error);
    }

    /// <summary>The lab's namespaces that exist now.</summary>
    public IReadOnlyList<string> Namespaces() =>
        [.. Host("ip", "netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).Where(n => n.StartsWith(Prefix + "-", StringComparison.Ordinal))];

    /// <summary>Everything of the lab that could outlive it: namespaces, /etc/netns entries, state, processes.</summary>
    public IReadOnlyList<string> Leftovers()
    {
        var found = new List<string>(Namespaces().Select(n => $"namespace {n}"));
        if (Directory.Exists("/etc/netns"))
        {
            found.AddRange(Directory.GetDirectories("/etc/netns").Where(d => Path.GetFileName(d).StartsWith(Prefix, StringComparison.Ordinal)).Select(d => $"directory {d}"));
        }

        if (Directory.Exists(StateDirectory))
        {
            found.Add($"directory {StateDirectory}");
        }

        foreach (var pid in Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)))
        {
            try
            {
                if (File.ReadAllText($"/proc/{pid}/cmdline").Contains(StateDirectory, StringComparison.Ordinal))
                {
                    found.Add($"process {pid}");
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        return found;
    }

    /// <summary>The root namespace's network configuration, which the lab must never change.</summary>
    public static string RootNamespaceSnapshot()
    {
        var text = new StringBuilder();
        text.AppendLine(Host("ip", "-o", "link", "show"));
        text.AppendLine(Host("ip", "-o", "addr", "show"));
        text.AppendLine(Host("ip", "route", "show", "table", "all"));
        text.AppendLine(Host("ip", "rule", "show"));
        text.AppendLine(Host("nft", "list", "ruleset"));
        return text.ToString();
    }

    public static string Host(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}
