using System.CommandLine;
using System.Diagnostics;
using EgressLab.LoadTests.Cli;
using EgressLab.LoadTests.Reports;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Tests.Reports;

namespace EgressLab.LoadTests.Tests.Cli;

public sealed class ReportCommandTests : IDisposable
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(1);

    private readonly string _directory = Directory.CreateTempSubdirectory("egress-report-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string ResultsFile => Path.Combine(_directory, "results.json");

    /// <summary>Parses and runs the command line as Program does, with the output captured.</summary>
    private static (int ExitCode, string Output, string Error) Run(params string[] arguments)
    {
        var root = new RootCommand { ReportCommand.Create() };
        var parsed = root.Parse(arguments);
        Assert.Empty(parsed.Errors);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Report_ResultsWrittenWithResultsJson_WritesBothReportsEqualToTheRenderers()
    {
        var results = CompareFixture.Create();
        var json = ResultsJson.Serialize(results);
        File.WriteAllText(ResultsFile, json);
        var outDirectory = Path.Combine(_directory, "out", "nested");

        var (code, output, error) = Run("report", "--from", ResultsFile, "--out", outDirectory);

        Assert.True(code == 0, error);
        Assert.Contains("wrote", output, StringComparison.Ordinal);
        Assert.Equal(MarkdownReport.Render(results), File.ReadAllText(Path.Combine(outDirectory, "report.md")));
        Assert.Equal(HtmlReport.Render(results), File.ReadAllText(Path.Combine(outDirectory, "report.html")));
        Assert.Equal(["report.html", "report.md"], Directory.GetFiles(outDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Report_Traffic_WritesTheCostsTheOptionsAskFor()
    {
        var results = CompareFixture.Create();
        File.WriteAllText(ResultsFile, ResultsJson.Serialize(results));

        var (code, _, error) = Run("report", "--from", ResultsFile, "--traffic", "2TB/month", "--nat-instances", "2", "--proxy-instance-type", "t4g.small");

        Assert.True(code == 0, error);
        var cost = CostSettings.Read("2TB/month", null, "2", "t4g.small", null, null, [])!;
        Assert.Equal(2, cost.Assumptions.NatInstances);
        Assert.Equal(HtmlReport.Render(results, cost), File.ReadAllText(Path.Combine(_directory, "report.html")));
        Assert.Equal(MarkdownReport.Render(results, cost), File.ReadAllText(Path.Combine(_directory, "report.md")));
        Assert.Contains("2 × t4g.small proxy", File.ReadAllText(Path.Combine(_directory, "report.md")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--traffic", "2 terabytes" }, "error: --traffic '2 terabytes' is not a monthly volume: use a number and a unit (GB, TB, GiB or TiB), optionally followed by /month, such as 2TB/month or 500GB/month.")]
    [InlineData(new[] { "--nat-instances", "2" }, "error: the cost options price a traffic volume: add --traffic, such as --traffic 2TB/month.")]
    [InlineData(new[] { "--traffic", "1TB", "--nat-instances", "0" }, "error: --nat-instances '0' must be a whole number from 1 to 10.")]
    [InlineData(new[] { "--traffic", "1TB", "--proxy-instance-type", "t9.tiny" }, "error: --proxy-instance-type 't9.tiny' has no price in deploy/pricing/aws-us-east-1.json: choose from ")]
    public void Report_BadCostOptions_ExitTwoSayingHowToFixThemAndWriteNothing(string[] options, string message)
    {
        File.WriteAllText(ResultsFile, ResultsJson.Serialize(CompareFixture.Create()));

        var (code, _, error) = Run(["report", "--from", ResultsFile, .. options]);

        Assert.Equal(2, code);
        Assert.StartsWith(message, error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory, "report.html")));
    }

    [Fact]
    public void ResultsJson_RoundTrip_KeepsEveryValue()
    {
        var json = ResultsJson.Serialize(CompareFixture.Create());
        File.WriteAllText(ResultsFile, json);

        Assert.True(ResultsJson.TryReadFile<CompareResults>(ResultsFile, "results", out var read, out var problem), problem);
        Assert.Equal(json, ResultsJson.Serialize(read));
        Assert.Contains("\"model\": \"Open\"", json, StringComparison.Ordinal);
        Assert.Contains("\"cellDurationSeconds\": 30", json, StringComparison.Ordinal);
        Assert.Contains("NAT & proxy vs IGW", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_NoOut_WritesNextToTheResultsAndReplacesOldReports()
    {
        File.WriteAllText(ResultsFile, ResultsJson.Serialize(CompareFixture.Create()));
        File.WriteAllText(Path.Combine(_directory, "report.md"), "old");

        var (code, _, error) = Run("report", "--from", ResultsFile);

        Assert.True(code == 0, error);
        Assert.Equal(MarkdownReport.Render(CompareFixture.Create()), File.ReadAllText(Path.Combine(_directory, "report.md")));
        Assert.Equal(["report.html", "report.md", "results.json"], Directory.GetFiles(_directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    public static TheoryData<string, string?, string[]> BadInputs => new()
    {
        { "missing file", null, ["does not exist", "pass the results.json that `compare` writes"] },
        { "empty file", "  \n", ["is empty"] },
        { "invalid JSON", "{\n  \"rounds\": 3,\n  oops\n}", ["is not valid JSON (line 3, byte 3)", "Fix the file there"] },
        { "wrong shape", "{ \"rounds\": 3, \"cellDurationSeconds\": 30 }", ["is JSON but not the results.json that `compare` writes", "missing required properties", "environment"] },
        { "run results instead", "{ \"environment\": {}, \"url\": \"http://origin/\", \"results\": [] }", ["is JSON but not the results.json"] },
        { "wrong type", ReplaceInFixture("\"rounds\": 3", "\"rounds\": \"three\""), ["is JSON but not", "$.rounds"] },
        { "null where a value belongs", ReplaceInFixture("\"title\": \"NAT instance (PAT)\"", "\"title\": null"), ["is JSON but not", "doesn't allow null values. (at $.paths[1].title, line 25, byte 20) Fix the file there."] },
        { "unknown load model", ReplaceInFixture("\"model\": \"Closed\"", "\"model\": \"Sideways\""), ["is JSON but not", "model"] },
        { "null document", "null", ["holds null"] },
        { "unknown path in a cell", ReplaceInFixture("\"pathId\": \"l4\"", "\"pathId\": \"l9\""), ["names path 'l9', which is not in paths", "run compare again"] },
        { "no rounds", ReplaceInFixture("\"rounds\": 3", "\"rounds\": 0"), ["rounds is 0; it must be 1 or more"] },
    };

    private static string ReplaceInFixture(string from, string to)
    {
        var json = ResultsJson.Serialize(CompareFixture.Create());
        Assert.Contains(from, json, StringComparison.Ordinal);
        return json.Replace(from, to, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Report_BadInput_ExitsTwoSayingWhatIsWrongAndWritesNothing(string name, string? content, string[] messages)
    {
        if (content is not null)
        {
            File.WriteAllText(ResultsFile, content);
        }

        var (code, output, error) = Run("report", "--from", ResultsFile);

        Assert.True(code == 2, $"{name}: exit {code}\n{output}{error}");
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        foreach (var message in messages)
        {
            Assert.Contains(message, error, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(_directory, "report.md")), name);
        Assert.False(File.Exists(Path.Combine(_directory, "report.html")), name);
    }

    [Fact]
    public void Report_FromADirectory_ExitsTwoPointingAtTheFileInside()
    {
        var (code, _, error) = Run("report", "--from", _directory);

        Assert.Equal(2, code);
        Assert.Contains("is a directory", error, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_directory, "results.json"), error, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_OutIsAFile_ExitsTwo()
    {
        File.WriteAllText(ResultsFile, ResultsJson.Serialize(CompareFixture.Create()));

        var (code, _, error) = Run("report", "--from", ResultsFile, "--out", ResultsFile);

        Assert.Equal(2, code);
        Assert.Contains("is a file; give a directory", error, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteAtomically_ADirectoryInTheWay_LeavesNoTemporaryFilesAndKeepsTheOldOnes()
    {
        File.WriteAllText(Path.Combine(_directory, "a.txt"), "old");
        Directory.CreateDirectory(Path.Combine(_directory, "b.txt"));

        Assert.ThrowsAny<IOException>(() => ReportFiles.WriteAtomically(_directory, [("a.txt", "new"), ("b.txt", "new")]));

        Assert.Equal(["a.txt"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(new[] { "report" }, "--from")]
    [InlineData(new[] { "report", "--from" }, "--from")]
    [InlineData(new[] { "report", "--from", "x.json", "--colour" }, "--colour")]
    public async Task Program_BadCommandLine_ExitsTwo(string[] arguments, string named)
    {
        var assembly = Path.Combine(AppContext.BaseDirectory, "LoadTests.dll");
        Assert.True(File.Exists(assembly), $"{assembly} is missing: the test project should copy the LoadTests build");
        var dotnet = System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : Requirements.FindOnPath("dotnet") ?? "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(ProcessTimeout, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var text = await output + await error;
        Assert.True(process.ExitCode == 2, $"exit {process.ExitCode}:\n{text}");
        Assert.Contains("error: ", text, StringComparison.Ordinal);
        Assert.Contains(named, text, StringComparison.Ordinal);
    }
}
