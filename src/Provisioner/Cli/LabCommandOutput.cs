using System.Globalization;
using EgressLab.Provisioner.Lab;

namespace EgressLab.Provisioner.Cli;

/// <summary>Prints a lab operation's result the way the `lab` commands always have, and turns it into the exit code.</summary>
internal sealed class LabCommandOutput(TextWriter output, TextWriter error)
{
    public int Up(LabUpResult result)
    {
        if (result.Succeeded)
        {
            var seconds = result.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
            output.WriteLine(result.Created == 0
                ? $"lab is up; nothing needed to change ({seconds} s)."
                : $"lab is up: {result.Created} namespaces, links, rules and services created in {seconds} s.");
            output.WriteLine("next: `lab status`, `lab exec private-1 -- curl -s -m 3 http://checkip.lab.test/`, `lab verify`.");
        }

        return Exit(result);
    }

    public int Down(LabDownResult result)
    {
        if (result.Succeeded)
        {
            output.WriteLine(result.Namespaces == 0
                ? "no lab was up; nothing to remove."
                : $"lab is down: {result.Namespaces} namespaces and {result.Processes} processes removed.");
        }

        return Exit(result);
    }

    public int Exec(LabExecResult result) => result.Succeeded ? result.ExitCode : Exit(result);

    /// <summary>Prints the errors and advice on standard error; the exit code for the outcome.</summary>
    public int Exit(LabResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.WriteErrorsTo(error);
        return ExitCodes.For(result.Outcome);
    }
}
