using System.Text.Json.Nodes;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>How an <c>aws</c> operation ended; the CLI maps it to an exit code in one place (<see cref="ExitCodes"/>).</summary>
internal enum StackOutcome
{
    /// <summary>The operation did what was asked.</summary>
    Done,

    /// <summary>It could not be done: the AWS CLI missing or failing, a template that does not validate.</summary>
    Failed,

    /// <summary>The request itself was wrong (a bad topology, template, parameter, stack name or region); nothing was changed.</summary>
    BadInput,
}

/// <summary>
/// The outcome of a <see cref="StackController"/> operation, for a caller using the provisioner as a library; the
/// problems themselves are written to the controller's error writer as they are found, each saying how to fix it.
/// </summary>
internal sealed record StackResult(StackOutcome Outcome)
{
    public static StackResult Done { get; } = new(StackOutcome.Done);

    public static StackResult Failed { get; } = new(StackOutcome.Failed);

    public static StackResult BadInput { get; } = new(StackOutcome.BadInput);

    public bool Succeeded => Outcome == StackOutcome.Done;

    /// <summary>For <c>render</c>: the validated template; null otherwise.</summary>
    public JsonObject? Template { get; init; }

    /// <summary>For <c>render</c>: how many resources the template has.</summary>
    public int Resources { get; init; }

    public static StackResult Rendered(JsonObject template, int resources) => new(StackOutcome.Done) { Template = template, Resources = resources };
}
