using System.Text.Json.Nodes;
using EgressLab.Provisioner.CloudFormation;
using EgressLab.Provisioner.Tests.Topology;

namespace EgressLab.Provisioner.Tests.CloudFormation.UserData;

/// <summary>The scripts in src/Provisioner/CloudFormation/UserData, as the rendered templates use them.</summary>
public sealed class UserDataScriptTests
{
    // What Fn::Sub may name besides template parameters and the variables map.
    private static readonly HashSet<string> PseudoParameters =
    [
        "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
    ];

    public static TheoryData<string> Scripts => [.. DeployAssets.UserDataScripts()];

    [Fact]
    public void UserDataScripts_EveryFileInTheFolder_IsEmbedded()
    {
        var onDisk = Directory.GetFiles(RepositoryFiles.PathOf("src", "Provisioner", "CloudFormation", "UserData"))
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal);

        Assert.Equal(onDisk, DeployAssets.UserDataScripts());
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void UserDataScript_EveryPlaceholder_IsAPseudoParameterATemplateParameterOrAVariable_AndEveryVariableIsUsed(string script)
    {
        var uses = Uses(script);
        Assert.NotEmpty(uses);
        foreach (var (where, template, userData) in uses)
        {
            var (text, variables) = FnSub.Parts(userData);
            var placeholders = FnSub.Placeholders(text).ToHashSet(StringComparer.Ordinal);
            var parameters = ((JsonObject)template["Parameters"]!).Select(p => p.Key);
            var known = PseudoParameters.Concat(parameters).Concat(variables.Select(v => v.Key)).ToHashSet(StringComparer.Ordinal);

            var unknown = placeholders.Where(p => !known.Contains(p)).ToList();
            Assert.True(unknown.Count == 0, $"{script} ({where}) names what neither AWS, the template's parameters nor the renderer's variables define: {string.Join(", ", unknown)}. Fix the name, or write ${{!Name}} for bash's own ${{Name}}.");
            var unused = variables.Select(v => v.Key).Where(v => !placeholders.Contains(v)).ToList();
            Assert.True(unused.Count == 0, $"the renderer passes {script} ({where}) variables it never uses: {string.Join(", ", unused)}");
        }
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void UserDataScript_AsBashSeesItAfterSubstitution_PassesShellcheck(string script)
    {
        var shellcheck = Requirements.FindOnPath("shellcheck");
        Requirements.SkipUnless(shellcheck is not null, "shellcheck is not installed (.ci/run installs it)");

        // Every distinct script bash would run: each use, for an allowlist of one name and of several, with and without a
        // checksum, with the policy in the file and in SSM.
        var resolved = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, _, userData) in Uses(script))
        {
            foreach (var domains in new[] { "checkip.amazonaws.com", "checkip.amazonaws.com,.example.com,*.example-bucket.s3.amazonaws.com" })
            {
                foreach (var policyFromSsm in new[] { "false", "true" })
                {
                    var values = TemplateRendererTests.ParameterValues(domains);
                    values["Condition:PolicyFromSsm"] = policyFromSsm;
                    resolved.Add(FnSub.ResolveUserData(userData, values));
                    values["ProxyPackageSha256"] = "";
                    resolved.Add(FnSub.ResolveUserData(userData, values));
                }
            }
        }

        foreach (var text in resolved)
        {
            var file = Path.Combine(Path.GetTempPath(), $"{Path.GetFileNameWithoutExtension(script)}-{Guid.NewGuid():N}.sh");
            File.WriteAllText(file, text);
            try
            {
                // -S style: the strictest level; the scripts are clean at it.
                var (code, output) = TemplateRendererTests.RunProcess(shellcheck!, "-s", "bash", "-S", "style", "--color=never", file);
                Assert.True(code == 0, $"shellcheck finds fault with {script} as CloudFormation hands it to bash:\n{output}\n--- the script ---\n{text}");
            }
            finally
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Every user-data node, in every topology variant the renderer tests use, whose body is <paramref name="script"/>.</summary>
    private static List<(string Where, JsonObject Template, JsonNode UserData)> Uses(string script)
    {
        var body = DeployAssets.UserDataScript(script);
        var uses = new List<(string, JsonObject, JsonNode)>();
        foreach (var variant in TemplateRendererTests.Variants)
        {
            var (name, oldText, newText) = variant.Data;
            var template = TemplateRendererTests.Render(TopologyFixtures.ParseDefaultWith(oldText, newText));
            foreach (var (id, resource) in (JsonObject)template["Resources"]!)
            {
                foreach (var userData in UserDataNodes(resource))
                {
                    // A script is the whole text or a part of it: the failover NAT's runs its own steps, then the NAT
                    // instance's, and the renderer appends cloudwatch-agent.sh to every script.
                    if (FnSub.Parts(userData).Text.Contains(body, StringComparison.Ordinal))
                    {
                        uses.Add(($"{name}: {id}", template, userData));
                    }
                }
            }
        }

        return uses;
    }

    private static IEnumerable<JsonNode> UserDataNodes(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => p.Key == "UserData" && p.Value is not null ? [p.Value] : UserDataNodes(p.Value)),
        JsonArray list => list.SelectMany(UserDataNodes),
        _ => [],
    };
}
