using EgressLab.Provisioner.Cli;
using EgressLab.Provisioner.Tests.Lab;

namespace EgressLab.Provisioner.Tests.Cli;

public sealed class ProvisionerCommandTests
{
    private static (int ExitCode, string Output) Run(params string[] args)
    {
        using var output = new StringWriter();
        var code = ProvisionerCommand.Run(args, output, output);
        return (code, output.ToString());
    }

    [Theory]
    [InlineData("lab", "nonsense")]
    [InlineData("lab", "source-dest-check", "nat", "maybe")]
    [InlineData("lab", "egress", "everything")]
    [InlineData("lab", "route", "add", "private")]
    [InlineData("lab", "up", "--topolgy", "x.yaml")]
    [InlineData("lab", "fail", "nat", "--mode", "reboot")]
    [InlineData("lab", "heal")]
    public void Run_BadArguments_ExitTwoWithAnError(params string[] args)
    {
        var (code, output) = Run(args);

        Assert.Equal(2, code);
        Assert.Contains("error:", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--boot-delay", "3x", "--boot-delay '3x' is not a delay")]
    [InlineData("--detection-delay", "2h", "--detection-delay '2h' is not a delay")]
    [InlineData("--detection-delay", "90m", "(at most 60m)")]
    public void FailNat_BadDelay_ExitsTwoSayingHowToWriteOne(string option, string value, string phrase)
    {
        var (code, output) = Run("lab", "fail", "nat", option, value);

        Assert.Equal(2, code);
        Assert.Contains(phrase, output, StringComparison.Ordinal);
        Assert.Contains("such as 2s or 500ms", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Up_WithAnInvalidTopology_RefusesBeforeBuildingAnything()
    {
        var file = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, File.ReadAllText(EgressLab.Provisioner.Topology.DefaultTopology.Path).Replace("cidr: 10.10.2.0/24", "cidr: 10.10.1.128/25", StringComparison.Ordinal));
        try
        {
            var (code, output) = Run("lab", "up", "--topology", file);

            Assert.Equal(2, code);
            Assert.Contains(file, output, StringComparison.Ordinal);
            Assert.Contains("nothing was built", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Up_WithoutRoot_SaysSoAndExitsNonZero()
    {
        var setpriv = Requirements.FindOnPath("setpriv");
        Requirements.SkipUnless(Environment.IsPrivilegedProcess && setpriv is not null, "needs root and setpriv (util-linux) to run the provisioner as an unprivileged user");
        var lab = new LabRunner();

        var start = new System.Diagnostics.ProcessStartInfo(setpriv!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["--reuid=65534", "--regid=65534", "--clear-groups", EgressLab.Provisioner.Lab.LabPrerequisites.DotnetHost(), LabRunner.ProvisionerAssembly, "lab", "up"])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["EGRESS_LAB_PREFIX"] = lab.Prefix;
        start.Environment["EGRESS_LAB_STATE_DIR"] = lab.StateDirectory;
        start.Environment["HOME"] = "/tmp";
        start.Environment["DOTNET_CLI_HOME"] = "/tmp";
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken) + await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(LabRunner.Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(1, process.ExitCode);
        Assert.Contains("needs root", output, StringComparison.Ordinal);
        Assert.Empty(lab.Leftovers());
    }
}
