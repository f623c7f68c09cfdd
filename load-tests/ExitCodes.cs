namespace EgressLab.LoadTests;

/// <summary>The load tests' exit codes, for every command, defined here only (README "Load-test exit codes" lists them).</summary>
internal static class ExitCodes
{
    /// <summary>run: every threshold met; compare: done and the counts add up; bench: every figure measured, met or not; report: written.</summary>
    public const int Ok = 0;

    /// <summary>run: a threshold missed; compare: the lab or a run failed, or the counts do not add up; bench: a figure could not be measured or had errors; report: could not write.</summary>
    public const int Failed = 1;

    /// <summary>The command line or a file it names is wrong; nothing was measured.</summary>
    public const int BadInput = 2;

    /// <summary>By convention, the exit code of a program stopped by Ctrl+C (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
