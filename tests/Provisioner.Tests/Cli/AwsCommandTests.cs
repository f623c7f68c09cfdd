using EgressLab.Provisioner.Tests.CloudFormation;
using EgressLab.Provisioner.Tests.Lab;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Cli;

/// <summary>
/// The `aws` commands, run as a process the way a user runs them. Deploy and destroy meet a stand-in `aws` script
/// on PATH that records its arguments and answers like the AWS CLI, so nothing here needs an account or a network.
/// </summary>
public sealed class AwsCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("egress-aws-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Log => Path.Combine(_directory, "aws-calls.log");

    private string CapturedTemplate => Path.Combine(_directory, "deployed-template.yaml");

    /// <summary>Writes the stand-in AWS CLI; it fails where the named variable is set to 1.</summary>
    private string FakeAws()
    {
        var bin = Path.Combine(_directory, "bin");
        Directory.CreateDirectory(bin);
        var script = Path.Combine(bin, "aws");
        File.WriteAllText(script, $$"""
            #!/bin/bash
            # Stand-in for the AWS CLI: records each call, one argument per line, and answers as the real one would.
            { echo "--- call"; for a in "$@"; do echo "$a"; done; } >> '{{Log}}'
            case "$1 $2" in
              "sts get-caller-identity")
                if [ "${FAKE_AWS_NO_CREDENTIALS:-}" = 1 ]; then echo "Unable to locate credentials. You can configure credentials by running \"aws configure\"." >&2; exit 253; fi
                echo "arn:aws:iam::123456789012:user/tester" ;;
              "cloudformation deploy")
                while [ $# -gt 0 ]; do if [ "$1" = --template-file ]; then /bin/cp "$2" '{{CapturedTemplate}}'; fi; shift; done
                if [ "${FAKE_AWS_DEPLOY_FAILS:-}" = 1 ]; then echo "Failed to create/update the stack." >&2; exit 255; fi
                echo "Waiting for changeset to be created.."; echo "Successfully created/updated stack - tester" ;;
              "cloudformation describe-stacks") echo "| ProxyUrl | http://10.10.2.200:3128 |" ;;
              "cloudformation delete-stack") ;;
              "cloudformation wait") ;;
              *) echo "unexpected call: $*" >&2; exit 2 ;;
            esac
            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return bin;
    }

    private static Task<(int ExitCode, string Output)> RunAsync(string[] arguments, string? path = null, IReadOnlyDictionary<string, string>? variables = null)
    {
        var environment = new Dictionary<string, string>(variables ?? new Dictionary<string, string>());
        if (path is not null)
        {
            environment["PATH"] = path;
        }

        return new LabRunner().RunAsync(arguments, environment);
    }

    private List<List<string>> Calls() =>
        !File.Exists(Log)
            ? []
            : File.ReadAllText(Log).Split("--- call\n", StringSplitOptions.RemoveEmptyEntries).Select(c => c.TrimEnd('\n').Split('\n').ToList()).ToList();

    private static readonly string[] DeployArguments =
    [
        "aws", "deploy", "--stack-name", "egress-test", "--region", "eu-west-2",
        "--proxy-package-url", "https://example.com/egress-proxy-1-linux-x64.tar.gz",
        "--allowed-domains", "checkip.amazonaws.com,.example.com",
        "--proxy-fleet-size", "3",
    ];

    [Fact]
    public async Task Render_ToAFile_WritesTheGoldenTemplate()
    {
        var file = Path.Combine(_directory, "out", "template.yaml");

        var (code, output) = await RunAsync(["aws", "render", "--out", file]);

        Assert.True(code == 0, output);
        Assert.Equal(File.ReadAllText(TemplateRendererTests.GoldenPath), File.ReadAllText(file));
        Assert.Contains("note: route table 'private': 0.0.0.0/0 -> nat", output, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(file)!));
    }

    [Fact]
    public async Task Render_AnInvalidTopology_ExitsTwoAndWritesNothing()
    {
        var topology = Path.Combine(_directory, "bad.yaml");
        File.WriteAllText(topology, File.ReadAllText(DefaultTopology.Path).Replace("cidr: 10.10.2.0/24", "cidr: 10.10.1.128/25", StringComparison.Ordinal));
        var file = Path.Combine(_directory, "template.yaml");

        var (code, output) = await RunAsync(["aws", "render", "--topology", topology, "--out", file]);

        Assert.Equal(2, code);
        Assert.Contains(topology, output, StringComparison.Ordinal);
        Assert.Contains("overlaps", output, StringComparison.Ordinal);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task Validate_TheGoldenTemplate_Passes()
    {
        var (code, output) = await RunAsync(["aws", "validate", TemplateRendererTests.GoldenPath]);

        Assert.True(code == 0, output);
        Assert.Contains("valid", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_AHandWrittenTemplateWithShortFormTags_ReportsProblemsByLine()
    {
        var file = Path.Combine(_directory, "hand.yaml");
        File.WriteAllText(file, """
            AWSTemplateFormatVersion: "2010-09-09"
            Resources:
              Vpc:
                Type: AWS::EC2::VPC
                Properties:
                  CidrBlock: 10.0.0.0/16
              Subnet:
                Type: AWS::EC2::Subnet
                Properties:
                  VpcId: !Ref Vpc
                  CidrBlock: 10.1.0.0/24
                  AvailabilityZone: !Select [0, !GetAZs ""]
              Table:
                Type: AWS::EC2::RouteTable
                Properties:
                  VpcId: !Ref Vpc
                  Colour: blue
              Association:
                Type: AWS::EC2::SubnetRouteTableAssociation
                Properties:
                  SubnetId: !Ref Subnet
                  RouteTableId: !GetAtt Tabel.RouteTableId
            """);

        var (code, output) = await RunAsync(["aws", "validate", file]);

        Assert.Equal(1, code);
        Assert.Contains($"{file}:line 11: Subnet.Properties.CidrBlock: 10.1.0.0/24 is not inside the VPC's range 10.0.0.0/16", output, StringComparison.Ordinal);
        Assert.Contains($"{file}:line 17: Table.Properties.Colour", output, StringComparison.Ordinal);
        Assert.Contains("'Tabel'", output, StringComparison.Ordinal);
        Assert.Contains("Did you mean 'Table'?", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--parameter", "ProxyFleetSize")]
    [InlineData("--parameter", "=3")]
    public async Task Validate_BadParameterArgument_ExitsTwo(string option, string value)
    {
        var (code, output) = await RunAsync(["aws", "validate", TemplateRendererTests.GoldenPath, option, value]);

        Assert.Equal(2, code);
        Assert.Contains("NAME=VALUE", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_AFleetSizeAboveTheMaximum_FailsWithTheParameterNamed()
    {
        var (code, output) = await RunAsync(["aws", "validate", TemplateRendererTests.GoldenPath, "-p", "ProxyFleetSize=50"]);

        Assert.Equal(1, code);
        Assert.Contains("Parameters.ProxyFleetSize: the value given 50 is above MaxValue 20", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_WithoutTheAwsCli_SaysWhatIsMissingAndHowToGetIt()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_directory, "empty-path")).FullName;

        var (code, output) = await RunAsync(DeployArguments, path: empty);

        Assert.Equal(1, code);
        Assert.Contains("the AWS CLI (aws) is not on PATH", output, StringComparison.Ordinal);
        Assert.Contains("apt-get install awscli", output, StringComparison.Ordinal);
        Assert.Contains("aws configure", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_WithoutCredentials_SaysSoAndDeploysNothing()
    {
        var (code, output) = await RunAsync(DeployArguments, path: FakeAws(), variables: new Dictionary<string, string> { ["FAKE_AWS_NO_CREDENTIALS"] = "1" });

        Assert.Equal(1, code);
        Assert.Contains("no usable credentials", output, StringComparison.Ordinal);
        Assert.Contains("Unable to locate credentials", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Calls(), c => c[0] == "cloudformation");
    }

    [Fact]
    public async Task Deploy_RunsCloudFormationDeployWithTheValidatedTemplateAndTheParameters()
    {
        var (code, output) = await RunAsync(DeployArguments, path: FakeAws());

        Assert.True(code == 0, output);
        var deploy = Assert.Single(Calls(), c => c[0] == "cloudformation" && c[1] == "deploy");
        string After(string option) => deploy[deploy.IndexOf(option) + 1];
        Assert.Equal("egress-test", After("--stack-name"));
        Assert.Equal("CAPABILITY_IAM", After("--capabilities"));
        Assert.Equal("eu-west-2", After("--region"));
        var overrides = deploy.Skip(deploy.IndexOf("--parameter-overrides") + 1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
        Assert.Contains("ProxyPackageUrl=https://example.com/egress-proxy-1-linux-x64.tar.gz", overrides);
        Assert.Contains("AllowedDomains=checkip.amazonaws.com,.example.com", overrides);
        Assert.Contains("ProxyFleetSize=3", overrides);
        Assert.Equal(File.ReadAllText(TemplateRendererTests.GoldenPath), File.ReadAllText(CapturedTemplate));
        Assert.False(Directory.Exists(Path.GetDirectoryName(After("--template-file"))), "the temporary template and its directory must be removed");

        Assert.Equal(["sts", "get-caller-identity"], Calls()[0].Take(2));
        Assert.Contains(Calls(), c => c[0] == "cloudformation" && c[1] == "describe-stacks");
        Assert.Contains("http://10.10.2.200:3128", output, StringComparison.Ordinal);
        Assert.Contains("aws ssm start-session", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_WhenCloudFormationFails_ExitsOneAndPointsAtTheStackEvents()
    {
        var (code, output) = await RunAsync(DeployArguments, path: FakeAws(), variables: new Dictionary<string, string> { ["FAKE_AWS_DEPLOY_FAILS"] = "1" });

        Assert.Equal(1, code);
        Assert.Contains("Failed to create/update the stack.", output, StringComparison.Ordinal);
        Assert.Contains("aws cloudformation describe-stack-events --stack-name egress-test --region eu-west-2", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--stack-name", "1-starts-with-a-digit", "not a stack name")]
    [InlineData("--region", "Europe", "not an AWS region")]
    [InlineData("--allowed-domains", "a.example.com, b.example.com", "AllowedDomains")]
    // Passes the template's pattern, but the proxy would refuse to start on it: a wildcard over a public suffix.
    [InlineData("--allowed-domains", "checkip.amazonaws.com,*.s3.amazonaws.com", "--allowed-domains: '*.s3.amazonaws.com' is refused by the proxy: '*.s3.amazonaws.com' would allow every name registered under the public suffix 's3.amazonaws.com'")]
    [InlineData("--proxy-package-url", "http://example.com/plain-http.tar.gz", "ProxyPackageUrl")]
    [InlineData("--proxy-fleet-size", "0", "ProxyFleetSize")]
    public async Task Deploy_BadInput_ExitsTwoBeforeCallingAws(string option, string value, string messagePart)
    {
        var arguments = DeployArguments.ToList();
        var at = arguments.IndexOf(option);
        if (at >= 0)
        {
            arguments[at + 1] = value;
        }
        else
        {
            arguments.AddRange([option, value]);
        }

        var (code, output) = await RunAsync([.. arguments], path: FakeAws());

        Assert.True(code == 2, output);
        Assert.Contains(messagePart, output, StringComparison.Ordinal);
        Assert.Empty(Calls());
    }

    [Fact]
    public async Task Deploy_WithoutAPackageUrl_ExplainsHowToPublishOne()
    {
        var (code, output) = await RunAsync(["aws", "deploy", "--stack-name", "egress-test"], path: FakeAws());

        Assert.Equal(2, code);
        Assert.Contains("--proxy-package-url", output, StringComparison.Ordinal);
        Assert.Contains("deploy/publish.sh", output, StringComparison.Ordinal);
        Assert.Empty(Calls());
    }

    [Fact]
    public async Task Destroy_DeletesTheStackAndWaitsForIt()
    {
        var (code, output) = await RunAsync(["aws", "destroy", "--stack-name", "egress-test"], path: FakeAws());

        Assert.True(code == 0, output);
        var calls = Calls();
        Assert.Equal(["cloudformation", "delete-stack", "--stack-name", "egress-test"], calls[1]);
        Assert.Equal(["cloudformation", "wait", "stack-delete-complete", "--stack-name", "egress-test"], calls[2]);
        Assert.Contains("stack egress-test deleted", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Destroy_WithoutTheAwsCli_SaysWhatIsMissing()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_directory, "empty-path")).FullName;

        var (code, output) = await RunAsync(["aws", "destroy", "--stack-name", "egress-test"], path: empty);

        Assert.Equal(1, code);
        Assert.Contains("not on PATH", output, StringComparison.Ordinal);
    }
}
