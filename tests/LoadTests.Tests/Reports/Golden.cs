using System.Text;

namespace EgressLab.LoadTests.Tests.Reports;

/// <summary>
/// Golden files under tests/LoadTests.Tests/Reports/Golden. To accept a deliberate change of the output, run the
/// tests with EGRESS_UPDATE_GOLDEN=1: they rewrite the files, and the diff shows up in git for review.
/// </summary>
internal static class Golden
{
    public const string UpdateVariable = "EGRESS_UPDATE_GOLDEN";

    public static string PathOf(string name) => RepositoryFiles.PathOf("tests", "LoadTests.Tests", "Reports", "Golden", name);

    public static void AssertMatches(string name, string actual)
    {
        var path = PathOf(name);
        if (System.Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"{path} is missing. Create it: {UpdateVariable}=1 dotnet test tests/LoadTests.Tests");
        var expected = File.ReadAllText(path);
        if (expected != actual)
        {
            Assert.Fail($"the output differs from {path} (- golden, + now):\n{Diff(expected, actual)}\n"
                + $"If the change is intended, regenerate it: {UpdateVariable}=1 dotnet test tests/LoadTests.Tests, and review the diff.");
        }
    }

    /// <summary>A line diff (longest common subsequence) with two lines of context, at most 80 lines.</summary>
    public static string Diff(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        var common = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                common[i, j] = a[i] == b[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }

        var lines = new List<(char Mark, int Line, string Text)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                lines.Add((' ', x + 1, a[x]));
                x++;
                y++;
            }
            else if (x < a.Length && (y == b.Length || common[x + 1, y] >= common[x, y + 1]))
            {
                lines.Add(('-', x + 1, a[x]));
                x++;
            }
            else
            {
                lines.Add(('+', y + 1, b[y]));
                y++;
            }
        }

        var shown = new StringBuilder();
        var count = 0;
        var last = -1;
        for (var i = 0; i < lines.Count && count < 80; i++)
        {
            var near = false;
            for (var k = Math.Max(0, i - 2); k <= Math.Min(lines.Count - 1, i + 2); k++)
            {
                near |= lines[k].Mark != ' ';
            }

            if (near)
            {
                if (last >= 0 && last != i - 1)
                {
                    shown.Append("...\n");
                }

                last = i;
                shown.Append(lines[i].Mark).Append(' ').Append(lines[i].Line.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)).Append(": ").Append(lines[i].Text).Append('\n');
                count++;
            }
        }

        return shown.ToString();
    }
}
