using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.Provisioner.Topology;
using static EgressLab.Provisioner.CloudFormation.Intrinsics;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// What the stack ships to CloudWatch through the CloudWatch agent, as fck-nat does: the proxy's access log and every
/// instance's boot log to log groups with a retention, and the NAT instance's interface bytes and connection-tracking
/// fill as metrics. The <see cref="Parameters.CloudWatchAgent"/> parameter turns all of it off.
/// </summary>
internal sealed partial class TemplateRenderer
{
    /// <summary><see cref="Parameters.CloudWatchAgent"/>'s values.</summary>
    public static class CloudWatchAgentSettings
    {
        public const string Enabled = "Enabled";
        public const string Disabled = "Disabled";
    }

    /// <summary>The condition that holds when the agent ships logs and metrics.</summary>
    public const string ShipToCloudWatch = "ShipToCloudWatch";

    /// <summary>The log group of the proxy's access log.</summary>
    public const string ProxyAccessLogGroupId = "ProxyAccessLogGroup";

    /// <summary>The log group of every shipping instance's boot log (cloud-init's output, where user-data reports).</summary>
    public const string BootLogGroupId = "BootLogGroup";

    /// <summary>How long the log groups keep events; one of the values CloudWatch Logs offers.</summary>
    public const int LogRetentionDays = 14;

    /// <summary>The metrics namespace, one per stack.</summary>
    public const string MetricsNamespace = "EgressLab/${AWS::StackName}";

    /// <summary>Where the StatsD listener of the NAT instance's agent takes the connection-tracking figures.</summary>
    public const string StatsdAddress = "127.0.0.1:8125";

    /// <summary>Replaced in the NAT instance's agent configuration by the name of its primary interface, known only at boot.</summary>
    public const string PrimaryInterfaceMarker = "@PRIMARY_INTERFACE@";

    /// <summary>The proxy's access log on the instance, as the proxy configuration in <c>UserData/proxy-instance.sh</c> names it.</summary>
    public const string ProxyAccessLogPath = "/var/log/egress-proxy/access.log";

    private const string BootLogPath = "/var/log/cloud-init-output.log";

    private static void AddCloudWatchParameter(JsonObject parameters) =>
        parameters[Parameters.CloudWatchAgent] = new JsonObject
        {
            ["Type"] = "String",
            ["Default"] = CloudWatchAgentSettings.Enabled,
            ["AllowedValues"] = new JsonArray(CloudWatchAgentSettings.Enabled, CloudWatchAgentSettings.Disabled),
            ["Description"] = $"Enabled: the CloudWatch agent on the NAT and proxy instances ships the proxy's access log and the boot logs to CloudWatch Logs (kept {LogRetentionDays} days) and the NAT instance's interface bytes and conntrack table fill as metrics in {MetricsNamespace}. Disabled: nothing is installed or shipped, and nothing is billed for it.",
        };

    private static void AddCloudWatchCondition(JsonObject conditions) =>
        conditions[ShipToCloudWatch] = Intrinsics.Equals(Ref(Parameters.CloudWatchAgent), CloudWatchAgentSettings.Enabled);

    /// <summary>AWS's managed policy for the agent, on a role, only while the agent runs.</summary>
    private static JsonObject CloudWatchAgentPolicyArn() =>
        If(ShipToCloudWatch, Sub("arn:${AWS::Partition}:iam::aws:policy/CloudWatchAgentServerPolicy"), NoValue);

    private void AddLogGroups()
    {
        _resources[BootLogGroupId] = WithCondition(Resource("AWS::Logs::LogGroup", LogGroup("boot")), ShipToCloudWatch);
        _outputs[BootLogGroupId + "Name"] = ConditionalOutput(Ref(BootLogGroupId), "CloudWatch log group of the NAT and proxy instances' boot logs (cloud-init output, one stream per instance id): where a user-data failure shows.");
        if (_model.Instances.Any(i => i.Role == InstanceRole.Proxy))
        {
            _resources[ProxyAccessLogGroupId] = WithCondition(Resource("AWS::Logs::LogGroup", LogGroup("proxy-access")), ShipToCloudWatch);
            _outputs[ProxyAccessLogGroupId + "Name"] = ConditionalOutput(Ref(ProxyAccessLogGroupId), "CloudWatch log group of the proxy's access log (one stream per instance id).");
        }

        _outputs["MetricsNamespace"] = ConditionalOutput(Sub(MetricsNamespace), "CloudWatch metrics namespace of the NAT instance's bytes in and out (net_bytes_recv, net_bytes_sent) and conntrack table fill (conntrack_count, conntrack_max).");
    }

    // The agent's configuration names the groups the same way (LogFile).
    private static JsonObject LogGroup(string name) => new()
    {
        ["LogGroupName"] = Sub("/egress-lab/${AWS::StackName}/" + name),
        ["RetentionInDays"] = LogRetentionDays,
        ["Tags"] = Tags(name + "-log"),
    };

    private static JsonObject ConditionalOutput(JsonNode value, string description)
    {
        var output = Output(value, description);
        output["Condition"] = ShipToCloudWatch;
        return output;
    }

    /// <summary>
    /// The agent configuration for an instance of <paramref name="role"/> as a user-data variable: the JSON text (an
    /// <c>Fn::Sub</c>, so the stack's names fill in), or empty when the agent is off, which the script takes as "do not
    /// install".
    /// </summary>
    private JsonObject CloudWatchAgentVariable(InstanceRole role) =>
        If(ShipToCloudWatch, Sub(CloudWatchAgentConfig(role, _model.Instances.Any(i => i.Role == InstanceRole.Proxy)).ToJsonString(AgentJson)), "");

    private static readonly JsonSerializerOptions AgentJson = new() { WriteIndented = true };

    /// <summary>
    /// The agent's configuration: the NAT instance's interface bytes (the <c>net</c> plugin) and conntrack figures (a
    /// StatsD listener its user-data feeds from <c>/proc/sys/net/netfilter</c>) and its boot log; the proxy's access log
    /// and boot log. <c>${...}</c> is CloudFormation's (<c>${!...}</c> the agent's own), <c>{instance_id}</c> the agent's.
    /// </summary>
    public static JsonObject CloudWatchAgentConfig(InstanceRole role, bool hasProxy)
    {
        var files = new JsonArray(LogFile(BootLogPath, "boot"));
        if (role == InstanceRole.Proxy && hasProxy)
        {
            files.Add(LogFile(ProxyAccessLogPath, "proxy-access"));
        }

        var config = new JsonObject
        {
            ["agent"] = new JsonObject { ["metrics_collection_interval"] = 60, ["run_as_user"] = "root" },
            ["logs"] = new JsonObject { ["logs_collected"] = new JsonObject { ["files"] = new JsonObject { ["collect_list"] = files } } },
        };
        if (role == InstanceRole.Nat)
        {
            config["metrics"] = new JsonObject
            {
                ["namespace"] = MetricsNamespace,
                ["append_dimensions"] = new JsonObject { ["InstanceId"] = "${!aws:InstanceId}" },
                ["metrics_collected"] = new JsonObject
                {
                    ["net"] = new JsonObject
                    {
                        ["resources"] = new JsonArray(PrimaryInterfaceMarker),
                        ["measurement"] = new JsonArray("bytes_recv", "bytes_sent", "packets_recv", "packets_sent", "drop_in", "drop_out"),
                        ["metrics_collection_interval"] = 60,
                    },
                    ["statsd"] = new JsonObject
                    {
                        ["service_address"] = StatsdAddress,
                        ["metrics_collection_interval"] = 60,
                        ["metrics_aggregation_interval"] = 60,
                    },
                },
            };
        }

        return config;
    }

    private static JsonObject LogFile(string path, string name) => new()
    {
        ["file_path"] = path,
        // The group's name as LogGroup() makes it; the agent writes to the group the stack created.
        ["log_group_name"] = "/egress-lab/${AWS::StackName}/" + name,
        ["log_stream_name"] = "{instance_id}",
    };
}
