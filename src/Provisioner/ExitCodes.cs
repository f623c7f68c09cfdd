using EgressLab.Provisioner.CloudFormation;
using EgressLab.Provisioner.Lab;

namespace EgressLab.Provisioner;

/// <summary>
/// The provisioner's exit codes, for every command, defined here only (README "Provisioner exit codes" lists them).
/// `lab exec` passes on its command's own code instead.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>It could not be done: not root, a tool missing, a system or AWS CLI command failed, a check or validation failed.</summary>
    public const int Failed = 1;

    /// <summary>The command line or a file it names is wrong; nothing was changed.</summary>
    public const int BadInput = 2;

    public static int For(LabOutcome outcome) => outcome switch
    {
        LabOutcome.Done => Ok,
        LabOutcome.BadInput => BadInput,
        _ => Failed,
    };

    public static int For(StackOutcome outcome) => outcome switch
    {
        StackOutcome.Done => Ok,
        StackOutcome.BadInput => BadInput,
        _ => Failed,
    };
}
