using System.Text;
using System.Text.Json.Nodes;
using EgressLab.Provisioner.CloudFormation;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.CloudFormation;

/// <summary>What the rendered stack ships to CloudWatch: log groups, the agent's permission and its configuration.</summary>
public sealed class CloudWatchRenderingTests
{
    private const string Disabled = TemplateRenderer.CloudWatchAgentSettings.Disabled;

    private static readonly JsonObject Template = TemplateRendererTests.RenderDefault();

    [Fact]
    public void Render_CloudWatchAgentParameter_IsOnByDefaultAndCanBeTurnedOff()
    {
        var parameter = Template["Parameters"]![TemplateRenderer.Parameters.CloudWatchAgent]!;

        Assert.Equal("Enabled", parameter["Default"]!.ToString());
        Assert.Equal(["Enabled", "Disabled"], parameter["AllowedValues"]!.AsArray().Select(v => v!.ToString()));
        Assert.Equal(
            """{"Fn::Equals":[{"Ref":"CloudWatchAgent"},"Enabled"]}""",
            Template["Conditions"]![TemplateRenderer.ShipToCloudWatch]!.ToJsonString());
    }

    [Theory]
    [InlineData(TemplateRenderer.BootLogGroupId, "/egress-lab/${AWS::StackName}/boot")]
    [InlineData(TemplateRenderer.ProxyAccessLogGroupId, "/egress-lab/${AWS::StackName}/proxy-access")]
    public void Render_LogGroups_HaveARetentionAndExistOnlyWhileTheAgentShips(string id, string name)
    {
        var group = (JsonObject)Template["Resources"]![id]!;

        Assert.Equal("AWS::Logs::LogGroup", group["Type"]!.ToString());
        Assert.Equal(TemplateRenderer.ShipToCloudWatch, group["Condition"]!.ToString());
        Assert.Equal(name, group["Properties"]!["LogGroupName"]!["Fn::Sub"]!.ToString());
        Assert.Equal(14, group["Properties"]!["RetentionInDays"]!.GetValue<int>());
        Assert.Contains(id, Variant([]).Resources.Keys);
        Assert.DoesNotContain(id, Variant(new() { [TemplateRenderer.Parameters.CloudWatchAgent] = Disabled }).Resources.Keys);
    }

    [Theory]
    [InlineData("InstanceRole")]
    [InlineData("ProxyInstanceRole")]
    public void Render_InstanceRoles_GetTheAgentsManagedPolicyOnlyWhileItShips(string role)
    {
        const string AgentPolicy = "arn:${AWS::Partition}:iam::aws:policy/CloudWatchAgentServerPolicy";
        const string SessionManager = "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore";

        static List<string> Arns(TemplateVariant variant, string role) =>
            [.. variant.Resources[role]["Properties"]!["ManagedPolicyArns"]!.AsArray().Select(a => a!["Fn::Sub"]!.ToString())];

        Assert.Equal([SessionManager, AgentPolicy], Arns(Variant([]), role));
        Assert.Equal([SessionManager], Arns(Variant(new() { [TemplateRenderer.Parameters.CloudWatchAgent] = Disabled }), role));
    }

    [Fact]
    public void Render_NatAgentConfig_ShipsInterfaceBytesConntrackFillAndTheBootLog()
    {
        var script = Resolve((JsonObject)Template["Resources"]!["NatInstance"]!["Properties"]!, ship: true);
        var config = AgentConfig(script);

        var metrics = config["metrics"]!;
        Assert.Equal("EgressLab/egress-lab", metrics["namespace"]!.ToString());
        Assert.Equal("${aws:InstanceId}", metrics["append_dimensions"]!["InstanceId"]!.ToString());
        var net = metrics["metrics_collected"]!["net"]!;
        Assert.Equal([TemplateRenderer.PrimaryInterfaceMarker], net["resources"]!.AsArray().Select(r => r!.ToString()));
        Assert.Contains("bytes_recv", net["measurement"]!.AsArray().Select(m => m!.ToString()));
        Assert.Contains("bytes_sent", net["measurement"]!.AsArray().Select(m => m!.ToString()));
        Assert.Equal(TemplateRenderer.StatsdAddress, metrics["metrics_collected"]!["statsd"]!["service_address"]!.ToString());
        Assert.Equal(["/var/log/cloud-init-output.log"], LogFiles(config).Select(f => f["file_path"]!.ToString()));
        Assert.Equal("/egress-lab/egress-lab/boot", LogFiles(config).Single()["log_group_name"]!.ToString());

        // The marker becomes the interface the script found; the conntrack figures reach the listener the config opens.
        Assert.Contains($"sed \"s/{TemplateRenderer.PrimaryInterfaceMarker}/$primary_interface/\"", script, StringComparison.Ordinal);
        Assert.Contains("/proc/sys/net/netfilter/nf_conntrack_count", script, StringComparison.Ordinal);
        Assert.Contains("/proc/sys/net/netfilter/nf_conntrack_max", script, StringComparison.Ordinal);
        Assert.Contains("conntrack_count:%s|g", script, StringComparison.Ordinal);
        Assert.Contains("/dev/udp/" + TemplateRenderer.StatsdAddress.Replace(':', '/'), script, StringComparison.Ordinal);
        Assert.Contains("amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ProxyAgentConfig_ShipsTheAccessLogTheProxyWrites_InBothShapes()
    {
        var shapes = new[]
        {
            (JsonObject)Template["Resources"]!["ProxyInstance"]!["Properties"]!,
            (JsonObject)Template["Resources"]!["ProxyLaunchTemplate"]!["Properties"]!["LaunchTemplateData"]!,
        };
        foreach (var shape in shapes)
        {
            var script = Resolve(shape, ship: true);
            var config = AgentConfig(script);

            Assert.Null(config["metrics"]);
            var files = LogFiles(config).ToDictionary(f => f["file_path"]!.ToString(), f => f["log_group_name"]!.ToString());
            Assert.Equal("/egress-lab/egress-lab/proxy-access", files[TemplateRenderer.ProxyAccessLogPath]);
            Assert.Equal("/egress-lab/egress-lab/boot", files["/var/log/cloud-init-output.log"]);

            // The file the agent tails is the file the proxy's configuration writes.
            Assert.Contains($"\"Path\": \"{TemplateRenderer.ProxyAccessLogPath}\"", script, StringComparison.Ordinal);

            // EC2 takes at most 16 KB of user-data.
            Assert.True(Encoding.UTF8.GetByteCount(script) <= 16 * 1024, $"the proxy's user-data is {Encoding.UTF8.GetByteCount(script)} bytes");
        }
    }

    [Theory]
    [InlineData("NatInstance")]
    [InlineData("ProxyInstance")]
    public void Render_AgentTurnedOff_LeavesTheConfigurationEmpty_SoNothingIsInstalled(string instance)
    {
        var script = Resolve((JsonObject)Template["Resources"]![instance]!["Properties"]!, ship: false);

        Assert.Equal("", TemplateRendererTests.Between(script, "<<'EGRESS_LAB_CLOUDWATCH'\n", "EGRESS_LAB_CLOUDWATCH\n").Trim());
        Assert.Contains("if [ -n \"$cloudwatch_config\" ]; then", script, StringComparison.Ordinal);
    }

    [Fact]
    public void CloudWatchAgentConfig_WithoutAProxy_ShipsNoAccessLog()
    {
        var config = TemplateRenderer.CloudWatchAgentConfig(InstanceRole.Proxy, hasProxy: false);

        Assert.DoesNotContain(LogFiles(config), f => f["file_path"]!.ToString() == TemplateRenderer.ProxyAccessLogPath);
    }

    private static TemplateVariant Variant(Dictionary<string, string> overrides) =>
        TemplateVariant.Evaluate(Template, overrides, []) ?? throw new InvalidOperationException("the template's conditions cannot be evaluated");

    private static string Resolve(JsonObject properties, bool ship)
    {
        var values = TemplateRendererTests.ParameterValues(TemplateRenderer.DefaultAllowedDomains);
        values["Condition:" + TemplateRenderer.ShipToCloudWatch] = ship ? "true" : "false";
        return FnSub.ResolveUserData(properties["UserData"]!, values);
    }

    private static JsonObject AgentConfig(string script) =>
        JsonNode.Parse(TemplateRendererTests.Between(script, "<<'EGRESS_LAB_CLOUDWATCH'\n", "EGRESS_LAB_CLOUDWATCH\n"))!.AsObject();

    private static IEnumerable<JsonNode> LogFiles(JsonObject config) =>
        config["logs"]!["logs_collected"]!["files"]!["collect_list"]!.AsArray().Select(f => f!);
}
