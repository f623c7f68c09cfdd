using System.Diagnostics;
using EgressLab.Provisioner.Lab;

namespace EgressLab.Provisioner.Tests.Lab;

/// <summary>
/// A run killed before its own teardown leaves its lab's namespaces and processes on the machine; the next run removes
/// the labs of its family that are old enough to be nobody's, and leaves younger ones alone.
/// Needs root; CI runs these as root, and EGRESS_LAB_REQUIRE_ALL=1 there turns a skip into a failure.
/// </summary>
[Collection(LabTestGroup.Name)]
public sealed class StaleLabsTests
{
    // A family of its own: removing "every lab older than a second" must never reach another test's lab.
    private const string Family = "elsweep";

    [Fact]
    public async Task Remove_LabsOlderThanTheAge_RemovesTheirNamespacesProcessesAndStateAndKeepsYoungerOnes()
    {
        Requirements.SkipUnless(LabRunner.Unavailable() is null, LabRunner.Unavailable() ?? "");
        var old = new LabRunner(Family);
        var young = new LabRunner(Family);
        try
        {
            Abandon(old);
            using var sleeper = Process.Start("ip", ["netns", "exec", $"{old.Prefix}-router", "sleep", "300"]);
            Assert.Empty(StaleLabs.Remove(Family, id => LabRunner.StateDirectoryOf(Family, id), TimeSpan.FromHours(1), TextWriter.Null));
            Assert.Equal(2, old.Namespaces().Count);

            await Task.Delay(TimeSpan.FromSeconds(4), TestContext.Current.CancellationToken);
            Abandon(young);
            var removed = StaleLabs.Remove(Family, id => LabRunner.StateDirectoryOf(Family, id), TimeSpan.FromSeconds(2), TextWriter.Null);

            Assert.Equal([old.Prefix], removed);
            Assert.Empty(old.Leftovers());
            Assert.True(sleeper.WaitForExit(TimeSpan.FromSeconds(10)), "the process in the stale lab still runs");
            Assert.Equal(2, young.Namespaces().Count);
            Assert.True(Directory.Exists(young.StateDirectory), "the younger lab's state went too");
        }
        finally
        {
            await old.RunAsync("lab", "down");
            await young.RunAsync("lab", "down");
        }

        Assert.Empty(old.Leftovers());
        Assert.Empty(young.Leftovers());
    }

    /// <summary>What a killed run leaves: two of its namespaces and its state directory.</summary>
    private static void Abandon(LabRunner lab)
    {
        foreach (var node in new[] { "router", "internet" })
        {
            using var add = Process.Start("ip", ["netns", "add", $"{lab.Prefix}-{node}"]);
            add.WaitForExit();
            Assert.Equal(0, add.ExitCode);
        }

        Directory.CreateDirectory(lab.StateDirectory);
        File.WriteAllText(Path.Combine(lab.StateDirectory, "lab.json"), "{}");
    }
}
