using EgressLab.LoadTests.Reports;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Tests.Reports;

public sealed class MarkdownReportTests
{
    [Fact]
    public void Render_Fixture_MatchesTheGoldenFile()
    {
        Golden.AssertMatches("report.md", MarkdownReport.Render(CompareFixture.Create()));
    }

    [Fact]
    public void Render_SameResultsTwice_GivesTheSameText()
    {
        Assert.Equal(MarkdownReport.Render(CompareFixture.Create()), MarkdownReport.Render(CompareFixture.Create()));
    }

    [Fact]
    public void Render_CellsInAnyOrder_ListsScenariosInTheCanonicalOrder()
    {
        var results = CompareFixture.Create();
        var shuffled = results with { Cells = results.Cells.Reverse().ToList() };

        var text = MarkdownReport.Render(shuffled);

        var positions = CompareSummary.ScenarioOrder.Select(s => text.IndexOf($"\n## {s}\n", StringComparison.Ordinal)).ToList();
        Assert.All(positions, p => Assert.True(p > 0));
        Assert.Equal(positions.Order().ToList(), positions);
        Assert.Equal(MarkdownReport.Render(results), text);
    }

    [Fact]
    public void Render_NoL3Path_ShowsDashesAndSaysWhy()
    {
        var results = CompareFixture.Create();
        var withoutL3 = results with
        {
            Paths = results.Paths.Where(p => p.Layer != "L3").ToList(),
            Cells = results.Cells.Where(c => c.PathId != "l3").ToList(),
            Ladders = new Dictionary<string, IReadOnlyList<LadderStep>>(),
            Accounting = [],
        };

        var text = MarkdownReport.Render(withoutL3);

        Assert.Contains("No path has layer L3, so there is no overhead relative to L3.", text, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\d\.\d\d×", text);
        Assert.Contains("No rate ladder was run.", text, StringComparison.Ordinal);
        Assert.Contains("No request accounting was recorded", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_CellsOfAnUnknownPath_AreLeftOut()
    {
        var results = CompareFixture.Create();
        var stray = results.Cells[0] with { PathId = "l9", Scenario = "dns-only" };

        var text = MarkdownReport.Render(results with { Cells = [.. results.Cells, stray] });

        Assert.DoesNotContain("dns-only", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a|b", "a\\|b")]
    [InlineData("<script>", "\\<script\\>")]
    [InlineData("x86_64 *x* _y_", "x86_64 \\*x\\* \\_y\\_")]
    [InlineData("two\nlines", "two lines")]
    public void Escape_MarkdownSpecialCharacters_AreBackslashed(string text, string expected)
    {
        Assert.Equal(expected, MarkdownReport.Escape(text));
    }

    [Fact]
    public void Render_CommandWithBackticks_FencesItWithALongerFence()
    {
        var results = CompareFixture.Create();
        var odd = results with { Environment = results.Environment with { Command = "compare --label ```x```" } };

        var text = MarkdownReport.Render(odd);

        Assert.Contains("\n````\ncompare --label ```x```\n````\n", text, StringComparison.Ordinal);
    }
}
