using System.CommandLine;
using EgressLab.LoadTests.Cost;
using EgressLab.LoadTests.Reports;
using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Cli;

/// <summary>
/// <c>report --from results.json [--out DIR] [--traffic 2TB/month ...]</c>: renders report.md and report.html again from the results.json of a
/// <c>compare</c> run, without measuring anything. Exit codes: 0 written, 1 could not write, 2 bad input.
/// </summary>
internal static class ReportCommand
{
    private const string Expected = "the results.json that `compare` writes";

    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "The results.json of a compare run.", Required = true };
        var outDirectory = new Option<string?>("--out", "-o")
        {
            Description = "Directory for report.md and report.html. The default is the directory holding --from.",
        };
        var command = new Command("report", "Render report.md and report.html again from a compare results.json, without measuring anything; with --traffic, priced per path.")
        {
            from, outDirectory,
        };
        var cost = new CostSettings();
        cost.AddTo(command);
        command.SetAction(parse =>
        {
            var problems = new List<string>();
            var estimate = cost.Read(parse, problems);
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    parse.InvocationConfiguration.Error.WriteLine($"error: {problem}");
                }

                return ExitCodes.BadInput;
            }

            return Run(parse.GetValue(from)!, parse.GetValue(outDirectory), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, estimate);
        });
        return command;
    }

    public static int Run(string from, string? outDirectory, TextWriter output, TextWriter error, CostEstimate? cost = null)
    {
        if (!ResultsJson.TryReadFile<CompareResults>(from, Expected, out var results, out var problem))
        {
            error.WriteLine($"error: {problem}");
            return ExitCodes.BadInput;
        }

        var problems = CompareResultsValidator.Validate(results);
        if (problems.Count > 0)
        {
            foreach (var item in problems)
            {
                error.WriteLine($"error: {from}: {item}");
            }

            error.WriteLine($"fix {from}, or run compare again to write a new one.");
            return ExitCodes.BadInput;
        }

        var directory = outDirectory ?? Path.GetDirectoryName(Path.GetFullPath(from))!;
        if (File.Exists(directory))
        {
            error.WriteLine($"error: --out {directory} is a file; give a directory (it is created if it does not exist).");
            return ExitCodes.BadInput;
        }

        try
        {
            var written = ReportFiles.Write(results, directory, cost);
            output.WriteLine($"wrote {string.Join(" and ", written)}");
            return ExitCodes.Ok;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: cannot write the reports into {directory}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }
}
