using EgressLab.LoadTests.Results;

namespace EgressLab.LoadTests.Tests.Results;

public class RunEnvironmentProbeTests
{
    [Fact]
    public void Capture_OutsideAGitCheckout_CommitIsNull()
    {
        var directory = Directory.CreateTempSubdirectory("egress-no-git-");
        try
        {
            var environment = RunEnvironmentProbe.Capture("load-tests run", DateTimeOffset.UnixEpoch, directory.FullName);

            Assert.Null(environment.Commit);
            Assert.Equal("load-tests run", environment.Command);
            Assert.Equal(Environment.ProcessorCount, environment.ProcessorCount);
            Assert.False(string.IsNullOrWhiteSpace(environment.Kernel));
            Assert.StartsWith(".NET", environment.DotNet, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Capture_InsideTheRepository_ShortCommit()
    {
        Requirements.SkipUnless(Directory.Exists(RepositoryFiles.PathOf(".git")) && Requirements.FindOnPath("git") is not null,
            "needs a git checkout and git");

        var environment = RunEnvironmentProbe.Capture("load-tests run", DateTimeOffset.UnixEpoch, RepositoryFiles.Root);

        Assert.Matches("^[0-9a-f]{4,40}$", environment.Commit);
    }

    [Theory]
    [InlineData(new[] { "run", "--scenario", "http-small" }, "load-tests run --scenario http-small")]
    [InlineData(new[] { "run", "--assert", "p99<50ms" }, "load-tests run --assert 'p99<50ms'")]
    [InlineData(new[] { "run", "--url", "it's" }, "load-tests run --url 'it'\\''s'")]
    [InlineData(new[] { "run", "" }, "load-tests run ''")]
    public void CommandLine_Arguments_QuotedForAShell(string[] arguments, string expected) =>
        Assert.Equal(expected, RunEnvironmentProbe.CommandLine("load-tests", arguments));
}
