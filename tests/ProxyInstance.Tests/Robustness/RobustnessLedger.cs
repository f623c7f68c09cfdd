using System.Collections.Concurrent;
using System.Globalization;

[assembly: AssemblyFixture(typeof(EgressLab.ProxyInstance.Tests.Robustness.RobustnessSummary))]

namespace EgressLab.ProxyInstance.Tests.Robustness;

/// <summary>
/// Counts what the robustness tests throw at the proxy: requests sent, bad inputs tried, faults injected, and
/// which of those tests failed. <see cref="RobustnessSummary"/> prints the totals once at the end of the run.
/// </summary>
internal static class RobustnessLedger
{
    private static long s_requests;
    private static long s_badInputs;
    private static long s_faults;
    private static long s_tests;
    private static readonly ConcurrentQueue<string> s_failures = new();

    public static void Requests(long count = 1) => Interlocked.Add(ref s_requests, count);

    public static void BadInputs(long count = 1) => Interlocked.Add(ref s_badInputs, count);

    public static void Faults(long count = 1) => Interlocked.Add(ref s_faults, count);

    internal static void TestFinished(string name, bool failed)
    {
        Interlocked.Increment(ref s_tests);
        if (failed)
        {
            s_failures.Enqueue(name);
        }
    }

    public static string Summary()
    {
        var failures = s_failures.ToArray();
        var line = string.Create(CultureInfo.InvariantCulture,
            $"robustness: {Interlocked.Read(ref s_requests)} requests, {Interlocked.Read(ref s_badInputs)} bad inputs, {Interlocked.Read(ref s_faults)} faults injected, {failures.Length} failures ({Interlocked.Read(ref s_tests)} tests)");
        return failures.Length == 0 ? line : line + Environment.NewLine + "  failed: " + string.Join(", ", failures);
    }
}

/// <summary>
/// Base class of the robustness tests: records each test's outcome in the <see cref="RobustnessLedger"/>.
/// </summary>
public abstract class RobustnessTest : IAsyncLifetime
{
    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public virtual ValueTask DisposeAsync()
    {
        var context = TestContext.Current;
        RobustnessLedger.TestFinished(context.Test?.TestDisplayName ?? "?", context.TestState?.Result == TestResult.Failed);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Prints the ledger when the test assembly finishes, as an xUnit diagnostic message, which <c>dotnet test</c>
/// shows (xunit.runner.json turns diagnostic messages on).
/// </summary>
public sealed class RobustnessSummary : IAsyncDisposable
{
    public ValueTask DisposeAsync()
    {
        TestContext.Current.SendDiagnosticMessage(RobustnessLedger.Summary());
        return ValueTask.CompletedTask;
    }
}
