using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Processes;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// The AWS CLI, run as a child process with its arguments as a list (never through a shell). Deploys take minutes,
/// so their output is passed through line by line as the CLI prints it.
/// </summary>
internal sealed class AwsCli
{
    private readonly string _executable;
    private readonly string? _region;

    private AwsCli(string executable, string? region)
    {
        _executable = executable;
        _region = region;
    }

    /// <summary>The CLI on PATH, or null when it is not installed.</summary>
    public static AwsCli? Find(string? region) =>
        LabPrerequisites.FindOnPath("aws") is { } executable ? new AwsCli(executable, region) : null;

    /// <summary>Runs the CLI and collects what it prints.</summary>
    public CommandResult Capture(IReadOnlyList<string> arguments, TimeSpan timeout) =>
        ProcessRunner.Run(_executable, WithRegion(arguments), timeout);

    /// <summary>Runs the CLI, copying its output to <paramref name="output"/> and <paramref name="error"/> as it comes; returns its exit code.</summary>
    public int Stream(IReadOnlyList<string> arguments, TimeSpan timeout, TextWriter output, TextWriter error)
    {
        if (ProcessRunner.RunStreaming(_executable, WithRegion(arguments), timeout, output.WriteLine, error.WriteLine) is { } exitCode)
        {
            return exitCode;
        }

        error.WriteLine($"error: aws {arguments[0]} {arguments[1]} did not finish within {timeout.TotalMinutes:0} minutes and was stopped; the stack may still be changing, so look at it with `aws cloudformation describe-stack-events`.");
        return CommandResult.TimedOut;
    }

    private List<string> WithRegion(IReadOnlyList<string> arguments)
    {
        var list = new List<string>(arguments);
        if (_region is not null)
        {
            list.Add("--region");
            list.Add(_region);
        }

        return list;
    }
}
