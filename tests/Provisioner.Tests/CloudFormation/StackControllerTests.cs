using EgressLab.Provisioner.CloudFormation;

namespace EgressLab.Provisioner.Tests.CloudFormation;

/// <summary>The <c>aws</c> operations used as a library: typed results, not exit codes.</summary>
public sealed class StackControllerTests
{
    [Fact]
    public void Render_DefaultTopology_ReturnsTheValidatedTemplate()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var result = new StackController(output, error).Render(topologyPath: null, outPath: null, asWritten: false);

        Assert.True(result.Succeeded, error.ToString());
        Assert.NotNull(result.Template);
        Assert.Equal(result.Template!["Resources"]!.AsObject().Count, result.Resources);
        Assert.True(result.Resources > 10, $"{result.Resources} resources");
        Assert.Contains("AWS::EC2::VPC", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_TopologyThatDoesNotExist_IsBadInputWithNoTemplate()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var result = new StackController(output, error).Render(Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}.yaml"), outPath: null, asWritten: false);

        Assert.Equal(StackOutcome.BadInput, result.Outcome);
        Assert.Null(result.Template);
        Assert.Empty(output.ToString());
        Assert.Contains("nothing was rendered", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Destroy_InvalidStackName_IsBadInputBeforeAnyAwsCall()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var result = new StackController(output, error).Destroy("not a stack name!", region: null);

        Assert.Equal(StackOutcome.BadInput, result.Outcome);
    }
}
