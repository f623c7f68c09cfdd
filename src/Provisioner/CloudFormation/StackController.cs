using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>What <c>aws deploy</c> was asked for.</summary>
internal sealed record DeployRequest
{
    public required string StackName { get; init; }

    public string? Topology { get; init; }

    public string? Region { get; init; }

    public string? ProxyPackageUrl { get; init; }

    public string? ProxyPackageSha256 { get; init; }

    public string? AllowedDomains { get; init; }

    public string? KeyName { get; init; }

    public int? ProxyFleetSize { get; init; }

    /// <summary>Further parameters, NAME=VALUE.</summary>
    public IReadOnlyList<string> Parameters { get; init; } = [];

    public bool AsWritten { get; init; }
}

/// <summary>
/// The <c>aws</c> commands: render and validate work offline; deploy and destroy drive the AWS CLI. Exit codes as
/// the lab's: 0 done, 1 failed (or the template has problems), 2 bad input.
/// </summary>
internal sealed class StackController(TextWriter output, TextWriter error)
{
    private static readonly TimeSpan QuickCall = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan StackChange = TimeSpan.FromMinutes(60);
    private static readonly Regex StackName = new("^[A-Za-z][A-Za-z0-9-]{0,127}$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static readonly Regex Region = new("^[a-z]{2}(-[a-z]+)+-[0-9]+$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static readonly Regex ParameterName = new("^[A-Za-z0-9]{1,255}$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary><c>aws render</c>: the template for a topology, validated, written only when it is valid.</summary>
    public StackResult Render(string? topologyPath, string? outPath, bool asWritten)
    {
        var (rendered, failure) = RenderValidated(topologyPath, asWritten);
        if (rendered is null)
        {
            return failure;
        }

        if (outPath is null)
        {
            output.Write(rendered.Text);
            return StackResult.Rendered(rendered.Template, rendered.Resources);
        }

        if (!WriteAtomically(outPath, rendered.Text))
        {
            return StackResult.Failed;
        }

        error.WriteLine($"wrote {outPath}: {rendered.Resources} resources; valid against the resource schemas and the network checks.");
        return StackResult.Rendered(rendered.Template, rendered.Resources);
    }

    /// <summary><c>aws validate</c>: a template file (YAML or JSON), for the given parameter values and each variant.</summary>
    public StackResult Validate(string path, IReadOnlyList<string> parameterArguments)
    {
        if (ParseParameters(parameterArguments) is not { } parameters)
        {
            return StackResult.BadInput;
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: cannot read {path}: {ex.Message}");
            return StackResult.BadInput;
        }

        var read = TemplateReader.Read(text, path);
        if (read.Template is null || read.Errors.Count > 0)
        {
            foreach (var problem in read.Errors)
            {
                error.WriteLine($"{path}:{problem}");
            }

            return StackResult.Failed;
        }

        var findings = TemplateValidator.Validate(read.Template, parameters);
        foreach (var finding in findings)
        {
            var line = finding.Line ?? read.LineOf(PathOf(finding));
            error.WriteLine($"{path}:{(finding with { Line = line })}");
        }

        if (findings.Count > 0)
        {
            error.WriteLine($"{path}: {findings.Count.ToString(CultureInfo.InvariantCulture)} problem{(findings.Count == 1 ? "" : "s")}.");
            return StackResult.Failed;
        }

        var resources = (read.Template["Resources"] as JsonObject)?.Count ?? 0;
        output.WriteLine($"{path}: valid ({resources.ToString(CultureInfo.InvariantCulture)} resources; resource schemas, references and network checks for every variant of its parameters).");
        return StackResult.Done;
    }

    /// <summary><c>aws deploy</c>: renders the topology and creates or updates the stack with the AWS CLI.</summary>
    public StackResult Deploy(DeployRequest request)
    {
        var problems = CheckStackAndRegion(request.StackName, request.Region);
        var overrides = ParseParameters(request.Parameters);
        if (overrides is null)
        {
            return StackResult.BadInput;
        }

        void Set(string name, string? value)
        {
            if (value is not null)
            {
                overrides[name] = value;
            }
        }

        Set(TemplateRenderer.Parameters.ProxyPackageUrl, request.ProxyPackageUrl);
        Set(TemplateRenderer.Parameters.ProxyPackageSha256, request.ProxyPackageSha256);
        Set(TemplateRenderer.Parameters.AllowedDomains, request.AllowedDomains);
        Set(TemplateRenderer.Parameters.KeyName, request.KeyName);
        Set(TemplateRenderer.Parameters.ProxyFleetSize, request.ProxyFleetSize?.ToString(CultureInfo.InvariantCulture));
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                error.WriteLine($"error: {problem}");
            }

            return StackResult.BadInput;
        }

        var (rendered, failure) = RenderValidated(request.Topology, request.AsWritten);
        if (rendered is null)
        {
            return failure;
        }

        var parameters = rendered.Template["Parameters"] as JsonObject ?? [];
        if (parameters.ContainsKey(TemplateRenderer.Parameters.ProxyPackageUrl) && !overrides.ContainsKey(TemplateRenderer.Parameters.ProxyPackageUrl))
        {
            error.WriteLine("error: the proxy instance downloads its build at boot, so deploy needs --proxy-package-url.");
            error.WriteLine("  Build it with deploy/publish.sh, put the tarball where the instance can fetch it over HTTPS (an S3 presigned URL works:");
            error.WriteLine("  aws s3 cp dist/egress-proxy-*.tar.gz s3://BUCKET/ && aws s3 presign s3://BUCKET/egress-proxy-....tar.gz --expires-in 86400),");
            error.WriteLine("  and pass the URL, with --proxy-package-sha256 from publish.sh's output.");
            return StackResult.BadInput;
        }

        // The values are checked here, with the template's own patterns, so a typo costs no round trip to AWS.
        var findings = TemplateValidator.Validate(rendered.Template, overrides).Select(f => f.ToString()).ToList();
        if (findings.Count == 0 && overrides.TryGetValue(TemplateRenderer.Parameters.AllowedDomains, out var allowed))
        {
            // The proxy on the instances reads the allowlist with rules of its own: ask it now, not at boot.
            findings.AddRange(ProxyAllowlistCheck.Problems(allowed));
        }

        if (findings.Count > 0)
        {
            foreach (var finding in findings)
            {
                error.WriteLine($"error: {finding}");
            }

            return StackResult.BadInput;
        }

        if (Connect(request.Region) is not { } aws)
        {
            return StackResult.Failed;
        }

        // A directory of our own (mode 0700), so no other user can swap the file between writing and deploying it.
        var directory = Directory.CreateTempSubdirectory("egress-lab-deploy-");
        var templatePath = Path.Combine(directory.FullName, $"{request.StackName}.yaml");
        File.WriteAllText(templatePath, rendered.Text);
        try
        {
            var arguments = new List<string>
            {
                "cloudformation", "deploy",
                "--template-file", templatePath,
                "--stack-name", request.StackName,
                "--capabilities", "CAPABILITY_IAM",
                "--no-fail-on-empty-changeset",
                "--tags", "egress-lab=" + request.StackName,
            };
            if (overrides.Count > 0)
            {
                arguments.Add("--parameter-overrides");
                arguments.AddRange(overrides.Select(p => $"{p.Key}={p.Value}"));
            }

            output.WriteLine($"deploying stack {request.StackName} ({rendered.Resources} resources); this takes a few minutes.");
            var exit = aws.Stream(arguments, StackChange, output, error);
            if (exit != 0)
            {
                error.WriteLine($"error: aws cloudformation deploy failed (exit {exit.ToString(CultureInfo.InvariantCulture)}). The stack's events say why:");
                error.WriteLine($"  aws cloudformation describe-stack-events --stack-name {request.StackName}{RegionArgument(request.Region)} --max-items 20");
                return StackResult.Failed;
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }

        aws.Stream(["cloudformation", "describe-stacks", "--stack-name", request.StackName, "--query", "Stacks[0].Outputs", "--output", "table"], QuickCall, output, error);
        output.WriteLine();
        output.WriteLine("Next: open a shell on a private instance (its id is in the outputs) and check each path, as in the README's \"Deploy on AWS\":");
        output.WriteLine("  aws ssm start-session --target <Private1InstanceId>");
        output.WriteLine("When you are done: provisioner aws destroy --stack-name " + request.StackName + RegionArgument(request.Region));
        return StackResult.Done;
    }

    /// <summary><c>aws destroy</c>: deletes the stack and waits until it is gone.</summary>
    public StackResult Destroy(string stackName, string? region)
    {
        var problems = CheckStackAndRegion(stackName, region);
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                error.WriteLine($"error: {problem}");
            }

            return StackResult.BadInput;
        }

        if (Connect(region) is not { } aws)
        {
            return StackResult.Failed;
        }

        if (aws.Stream(["cloudformation", "delete-stack", "--stack-name", stackName], QuickCall, output, error) != 0)
        {
            error.WriteLine($"error: aws cloudformation delete-stack {stackName} failed; see the message above.");
            return StackResult.Failed;
        }

        output.WriteLine($"deleting stack {stackName}; waiting until every resource is gone.");
        if (aws.Stream(["cloudformation", "wait", "stack-delete-complete", "--stack-name", stackName], StackChange, output, error) != 0)
        {
            error.WriteLine($"error: the stack {stackName} did not finish deleting. Its events say why:");
            error.WriteLine($"  aws cloudformation describe-stack-events --stack-name {stackName}{RegionArgument(region)} --max-items 20");
            return StackResult.Failed;
        }

        output.WriteLine($"stack {stackName} deleted.");
        return StackResult.Done;
    }

    private sealed record Rendered(JsonObject Template, string Text, int Resources);

    /// <summary>Loads, renders and validates; on failure, the outcome: bad input for a bad topology, failure otherwise.</summary>
    private (Rendered? Rendered, StackResult Failure) RenderValidated(string? topologyPath, bool asWritten)
    {
        var path = topologyPath ?? DefaultTopology.Path;
        var loaded = TopologyLoader.Load(path);
        if (!loaded.Succeeded)
        {
            foreach (var problem in loaded.Errors)
            {
                error.WriteLine(problem.ToString());
            }

            error.WriteLine($"error: {path} is not a valid topology; nothing was rendered.");
            return (null, StackResult.BadInput);
        }

        var result = TemplateRenderer.Render(loaded.Model!, asWritten);
        foreach (var note in result.Notes)
        {
            error.WriteLine($"note: {note}");
        }

        if (result.Template is null)
        {
            foreach (var problem in result.Problems)
            {
                error.WriteLine($"{path}: {problem}");
            }

            return (null, StackResult.BadInput);
        }

        var findings = TemplateValidator.Validate(result.Template);
        if (findings.Count > 0)
        {
            // The topology passed its own validator, so this is the renderer's fault, not the user's.
            error.WriteLine($"error: the template rendered from {path} does not validate, so it was not written:");
            foreach (var finding in findings)
            {
                error.WriteLine($"  {finding}");
            }

            return (null, StackResult.Failed);
        }

        return (new Rendered(result.Template, TemplateYamlWriter.Write(result.Template), (result.Template["Resources"] as JsonObject)?.Count ?? 0), StackResult.Done);
    }

    private AwsCli? Connect(string? region)
    {
        if (AwsCli.Find(region) is not { } aws)
        {
            error.WriteLine("error: the AWS CLI (aws) is not on PATH, and deploy and destroy drive it.");
            error.WriteLine("  Install it (Debian: apt-get install awscli; elsewhere: AWS CLI version 2 from AWS's documentation),");
            error.WriteLine("  then give it credentials with `aws configure` or `aws configure sso`. `aws render` and `aws validate` work without it.");
            return null;
        }

        var identity = aws.Capture(["sts", "get-caller-identity", "--query", "Arn", "--output", "text"], QuickCall);
        if (!identity.Succeeded)
        {
            error.WriteLine("error: the AWS CLI has no usable credentials (or no region): `aws sts get-caller-identity` failed:");
            error.WriteLine("  " + (identity.Error.Trim().Length > 0 ? identity.Error.Trim() : identity.Output.Trim()));
            error.WriteLine("  Run `aws configure` (access key, secret and default region) or `aws sso login --profile NAME` and set AWS_PROFILE;");
            error.WriteLine("  --region or AWS_REGION chooses the region.");
            return null;
        }

        output.WriteLine($"AWS identity: {identity.Output.Trim()}");
        return aws;
    }

    private static List<string> CheckStackAndRegion(string stackName, string? region)
    {
        var problems = new List<string>();
        if (!StackName.IsMatch(stackName))
        {
            problems.Add($"'{stackName}' is not a stack name: use a letter, then letters, digits and '-', at most 128 characters (egress-lab)");
        }

        if (region is not null && !Region.IsMatch(region))
        {
            problems.Add($"'{region}' is not an AWS region name: write it like us-east-1 or eu-west-2");
        }

        return problems;
    }

    private Dictionary<string, string>? ParseParameters(IReadOnlyList<string> arguments)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var bad = false;
        foreach (var argument in arguments)
        {
            var equals = argument.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !ParameterName.IsMatch(argument[..equals]))
            {
                error.WriteLine($"error: --parameter '{argument}' is not NAME=VALUE with a parameter name of letters and digits (ProxyFleetSize=3)");
                bad = true;
                continue;
            }

            parameters[argument[..equals]] = argument[(equals + 1)..];
        }

        return bad ? null : parameters;
    }

    private bool WriteAtomically(string path, string text)
    {
        var full = Path.GetFullPath(path);
        var temporary = full + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(temporary, text);
            File.Move(temporary, full, overwrite: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            error.WriteLine($"error: cannot write {path}: {ex.Message}");
            return false;
        }
    }

    private static string PathOf(TemplateFinding finding) => finding.Resource switch
    {
        "template" => finding.Property,
        "Parameters" or "Conditions" or "Outputs" => $"{finding.Resource}.{finding.Property}",
        _ => finding.Property.Length == 0 ? $"Resources.{finding.Resource}" : $"Resources.{finding.Resource}.{finding.Property}",
    };

    private static string RegionArgument(string? region) => region is null ? "" : $" --region {region}";
}
