using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.Provisioner.CloudFormation;
using EgressLab.Provisioner.Tests.Topology;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.CloudFormation;

/// <summary>
/// Every rendered template, checked by AWS's own validator (tools/cfn-check: cfn-lint's rules over CloudFormation's
/// resource schemas, as aws-cdk-lib bundles them), independent of the provisioner's own schema validator.
/// </summary>
public sealed class AwsSpecValidationTests
{
    // Each parameter the template branches on, changed from its default one at a time, then all together.
    private static readonly Dictionary<string, string>[] ParameterSets =
    [
        [],
        new() { [TemplateRenderer.Parameters.ProxyFleetSize] = "3" },
        new() { [TemplateRenderer.Parameters.ProxyPolicySource] = TemplateRenderer.PolicySources.SsmParameter },
        new() { [TemplateRenderer.Parameters.KeyName] = "lab-key" },
        new() { [TemplateRenderer.Parameters.CloudWatchAgent] = TemplateRenderer.CloudWatchAgentSettings.Disabled },
        new()
        {
            [TemplateRenderer.Parameters.ProxyFleetSize] = "3",
            [TemplateRenderer.Parameters.ProxyPolicySource] = TemplateRenderer.PolicySources.SsmParameter,
            [TemplateRenderer.Parameters.KeyName] = "lab-key",
            [TemplateRenderer.Parameters.CloudWatchAgent] = TemplateRenderer.CloudWatchAgentSettings.Disabled,
        },
    ];

    [Fact]
    public void CfnCheck_EveryTopologyAndVariant_HasNoFindings()
    {
        var checker = Checker();
        var directory = Directory.CreateTempSubdirectory("cfn-check-");
        try
        {
            var files = new List<string>();
            foreach (var (name, template) in Templates())
            {
                files.Add(Write(directory.FullName, name, template));
                foreach (var set in ParameterSets.Where(s => s.Count > 0))
                {
                    var label = name + "-" + string.Join("-", set.Select(p => $"{p.Key}={p.Value}"));
                    files.Add(Write(directory.FullName, label, Resolved(template, set)));
                }
            }

            var (code, output) = TemplateRendererTests.RunProcess(checker.Node, [checker.Script, .. files]);
            Assert.True(code == 0, $"AWS's validator has findings on the rendered templates (fix the renderer, then regenerate deploy/cloudformation/egress-lab.yaml):\n{output}");
            Assert.Contains($"{files.Count} template(s)", output, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void CfnCheck_TheCheckedInTemplateInDeploy_HasNoFindings()
    {
        var checker = Checker();
        var (code, output) = TemplateRendererTests.RunProcess(checker.Node, checker.Script, TemplateRendererTests.GoldenPath);

        Assert.True(code == 0, output);
    }

    [Fact]
    public void CfnCheck_BrokenTemplate_ReportsEachFaultAndFails()
    {
        var checker = Checker();
        // The default template with the faults the check exists for: SSH open to the world, a misspelt property, a
        // value of the wrong type, a retention CloudWatch does not offer, and a resource type that does not exist.
        var template = TemplateRendererTests.RenderDefault();
        var resources = (JsonObject)template["Resources"]!;
        ((JsonArray)resources["PrivateHostSecurityGroup"]!["Properties"]!["SecurityGroupIngress"]!).Add(new JsonObject
        {
            ["IpProtocol"] = "tcp", ["FromPort"] = 22, ["ToPort"] = 22, ["CidrIp"] = "0.0.0.0/0",
        });
        var vpc = (JsonObject)resources["Vpc"]!["Properties"]!;
        vpc["CidrBlok"] = vpc["CidrBlock"]!.DeepClone();
        vpc.Remove("CidrBlock");
        vpc["EnableDnsSupport"] = "maybe";
        resources["ProxyAccessLogGroup"]!["Properties"]!["RetentionInDays"] = 13;
        resources["Nonsense"] = new JsonObject { ["Type"] = "AWS::EC2::Nonsense", ["Properties"] = new JsonObject() };

        var file = Path.Combine(Path.GetTempPath(), $"cfn-check-broken-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, template.ToJsonString());
        try
        {
            var (code, output) = TemplateRendererTests.RunProcess(checker.Node, checker.Script, file);

            Assert.True(code == 1, $"exit code {code}:\n{output}");
            Assert.Contains("W2508 PrivateHostSecurityGroup", output, StringComparison.Ordinal);
            Assert.Contains("F3002 Vpc Properties.CidrBlok", output, StringComparison.Ordinal);
            Assert.Contains("F3012 Vpc Properties.EnableDnsSupport", output, StringComparison.Ordinal);
            Assert.Contains("W3030 ProxyAccessLogGroup Properties.RetentionInDays", output, StringComparison.Ordinal);
            Assert.Contains("F3006 Nonsense", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void CfnCheck_UnreadableTemplate_ExitsTwoAndSaysWhich()
    {
        var checker = Checker();
        var file = Path.Combine(Path.GetTempPath(), $"cfn-check-missing-{Guid.NewGuid():N}.json");

        var (code, output) = TemplateRendererTests.RunProcess(checker.Node, checker.Script, file);

        Assert.True(code == 2, $"exit code {code}:\n{output}");
        Assert.Contains(file, output, StringComparison.Ordinal);
    }

    /// <summary>The default topology and every file in deploy/topologies, and the renderer tests' variants of the default.</summary>
    private static IEnumerable<(string Name, JsonObject Template)> Templates()
    {
        foreach (var file in Directory.GetFiles(RepositoryFiles.PathOf("deploy", "topologies")).Order(StringComparer.Ordinal))
        {
            yield return (Path.GetFileNameWithoutExtension(file), TemplateRendererTests.Render(TopologyLoader.Load(file)));
        }

        foreach (var variant in TemplateRendererTests.Variants.Skip(1))
        {
            var (name, oldText, newText) = variant.Data;
            yield return (name.Replace(' ', '-'), TemplateRendererTests.Render(TopologyFixtures.ParseDefaultWith(oldText, newText)));
        }
    }

    /// <summary>
    /// The template as one parameter set deploys it: defaults set to the values, each <c>Fn::If</c> resolved and the
    /// resources and outputs whose condition is false left out. The validator follows conditions only partly (a rule
    /// inside an <c>Fn::If</c> branch goes unchecked), so each variant is also handed to it with no branches left.
    /// </summary>
    private static JsonObject Resolved(JsonObject template, Dictionary<string, string> set)
    {
        var variant = TemplateVariant.Evaluate(template, set, []);
        Assert.NotNull(variant);
        var resolved = (JsonObject)template.DeepClone();
        foreach (var (name, value) in set)
        {
            resolved["Parameters"]![name]!["Default"] = JsonValue.Create(value);
        }

        // With every condition decided there are none left to name: a leftover would read as unused (W8001), and a
        // reference to a conditional resource as one that may not exist (W1001).
        resolved.Remove("Conditions");
        var resources = new JsonObject();
        foreach (var (id, resource) in variant.Resources)
        {
            var copy = (JsonObject)resource.DeepClone();
            copy.Remove("Condition");
            resources[id] = copy;
        }

        resolved["Resources"] = resources;
        var outputs = (JsonObject)resolved["Outputs"]!;
        foreach (var (name, output) in outputs.ToList())
        {
            if (output?["Condition"] is JsonValue condition && !variant.Conditions[condition.ToString()])
            {
                outputs.Remove(name);
            }
            else
            {
                ((JsonObject)output!).Remove("Condition");
            }
        }

        // So are the parameters only the conditions read (W2001).
        var uses = resolved["Resources"]!.ToJsonString() + resolved["Outputs"]!.ToJsonString();
        var parameters = (JsonObject)resolved["Parameters"]!;
        foreach (var (name, _) in parameters.ToList())
        {
            if (!uses.Contains($"\"Ref\":\"{name}\"", StringComparison.Ordinal) && !uses.Contains("${" + name + "}", StringComparison.Ordinal))
            {
                parameters.Remove(name);
            }
        }

        return resolved;
    }

    private static string Write(string directory, string name, JsonObject template)
    {
        var file = Path.Combine(directory, name + ".json");
        File.WriteAllText(file, template.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return file;
    }

    private static (string Node, string Script) Checker()
    {
        var node = Requirements.FindOnPath("node");
        var script = RepositoryFiles.PathOf("tools", "cfn-check", "check.js");
        var installed = Directory.Exists(RepositoryFiles.PathOf("tools", "cfn-check", "node_modules", "aws-cdk-lib"));
        Requirements.SkipUnless(node is not null && installed, "AWS's CloudFormation validator needs node and `npm ci` in tools/cfn-check (.ci/run does both)");
        return (node!, script);
    }
}
