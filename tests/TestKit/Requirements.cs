namespace EgressLab.Tests.Shared;

/// <summary>Skips a test with a visible reason, unless the run requires every test to run (CI sets EGRESS_LAB_REQUIRE_ALL=1).</summary>
internal static class Requirements
{
    public static bool RequireAll => Environment.GetEnvironmentVariable("EGRESS_LAB_REQUIRE_ALL") == "1";

    public static void SkipUnless(bool condition, string reason)
    {
        if (condition)
        {
            return;
        }

        if (RequireAll)
        {
            Assert.Fail($"{reason} (EGRESS_LAB_REQUIRE_ALL=1 forbids skipping)");
        }

        Assert.Skip(reason);
    }

    public static string? FindOnPath(string program)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
