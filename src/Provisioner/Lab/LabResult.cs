namespace EgressLab.Provisioner.Lab;

/// <summary>How a lab operation ended; the CLI maps it to an exit code in one place (ProvisionerExitCodes).</summary>
internal enum LabOutcome
{
    /// <summary>The operation did what was asked.</summary>
    Done,

    /// <summary>The machine or the lab could not do it (not root, a tool missing, a command failed, a check failed).</summary>
    Failed,

    /// <summary>The request itself was wrong (a bad topology, an unknown host or table); nothing was changed.</summary>
    BadInput,
}

/// <summary>The outcome of a lab operation, and every problem found, each a sentence saying how to fix it.</summary>
internal record LabResult(LabOutcome Outcome, IReadOnlyList<string> Errors)
{
    public static LabResult Done { get; } = new(LabOutcome.Done, []);

    public bool Succeeded => Outcome == LabOutcome.Done;

    /// <summary>What to do next after a failure (e.g. "run `lab down`"), printed after the errors; null when there is nothing to add.</summary>
    public string? Advice { get; init; }

    /// <summary>Every error, then the advice, one line each, as the `lab` commands print them on standard error.</summary>
    public void WriteErrorsTo(TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(error);
        foreach (var problem in Errors)
        {
            error.WriteLine($"error: {problem}");
        }

        if (Advice is { } advice)
        {
            error.WriteLine(advice);
        }
    }

    public static LabResult Failed(IReadOnlyList<string> errors) => new(LabOutcome.Failed, errors);

    public static LabResult Bad(params string[] errors) => new(LabOutcome.BadInput, errors);
}

/// <summary>The outcome of <c>lab up</c>: how many namespaces, links, rules and services it created (0 when the lab was complete) and how long it took.</summary>
internal sealed record LabUpResult(LabOutcome Outcome, IReadOnlyList<string> Errors, int Created, TimeSpan Elapsed) : LabResult(Outcome, Errors)
{
    public static LabUpResult From(LabResult failure) => new(failure.Outcome, failure.Errors, 0, TimeSpan.Zero) { Advice = failure.Advice };
}

/// <summary>The outcome of <c>lab down</c>: how many namespaces and processes it removed (0 when no lab was up).</summary>
internal sealed record LabDownResult(LabOutcome Outcome, IReadOnlyList<string> Errors, int Namespaces, int Processes) : LabResult(Outcome, Errors);

/// <summary>The outcome of <c>lab exec</c>: the command's own exit code once it ran.</summary>
internal sealed record LabExecResult(LabOutcome Outcome, IReadOnlyList<string> Errors, int ExitCode) : LabResult(Outcome, Errors);
