namespace EgressLab.Provisioner.Lab;

/// <summary>How <see cref="LabBuilder"/> builds. The CLI and compare use the defaults; tests set the rest.</summary>
internal sealed record LabBuilderOptions
{
    public static LabBuilderOptions Default { get; } = new();

    /// <summary>
    /// Asked after each build step (<see cref="LabBuilder.Steps"/>) with its name; when it answers true the build
    /// stops there with an error, as if the next step had failed, so a test can show that a partly built lab is
    /// finished by `lab up` and removed by `lab down`. The default is null: the build runs to the end.
    /// </summary>
    public Func<string, bool>? StopAfterStep { get; init; }
}
