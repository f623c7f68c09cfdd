using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EgressLab.Provisioner.Processes;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Lab;

/// <summary>The lab proxy's <c>Policy.Mode</c>, as <c>lab proxy-policy --mode</c> sets it.</summary>
internal enum LabPolicyMode
{
    Enforce,
    Report,
}

/// <summary>
/// What <c>lab proxy-policy</c> changes: the mode, the policy from a configuration file (what <c>allowlist suggest</c>
/// prints), or back to the topology's allowlist. Nothing set: show the policy in force.
/// </summary>
internal sealed record LabPolicyChange(LabPolicyMode? Mode = null, string? FromFile = null, bool Reset = false)
{
    public bool ChangesNothing => Mode is null && FromFile is null && !Reset;
}

/// <summary>
/// Changes the lab proxy's policy while it runs, for the allowlist roll-out (report mode, suggest, diff, enforce):
/// the new configuration is checked by the proxy's own <c>--check-config</c>, saved in the lab's state (so a later
/// <c>lab up</c> keeps it), written in one rename, and the command returns once the proxy has reloaded it.
/// </summary>
internal sealed partial class LabProxyPolicy(LabEnvironment environment, Shell shell, TextWriter output)
{
    private static readonly TimeSpan ReloadTimeout = TimeSpan.FromSeconds(15);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public LabResult Apply(TopologyModel model, LabState state, LabPolicyChange change)
    {
        if (model.Instances.FirstOrDefault(i => i.Role == InstanceRole.Proxy) is not { } proxy)
        {
            return LabResult.Bad("the topology has no instance with role proxy, so there is no proxy policy to change");
        }

        if (change.Reset && change.FromFile is not null)
        {
            return LabResult.Bad("give --from FILE or --reset, not both: --reset puts back the topology's allowlist (proxy.allowedDomains)");
        }

        var services = new LabServices(environment, model);
        var topologyPolicy = PolicyOf(services.ProxyConfigDocument(null));
        var policy = change.Reset || state.ProxyPolicy is null ? topologyPolicy : JsonNode.Parse(state.ProxyPolicy)!.AsObject();
        if (change.ChangesNothing)
        {
            output.WriteLine($"the proxy's policy ({(state.ProxyPolicy is null ? "the topology's allowlist" : "set by lab proxy-policy")}):");
            output.WriteLine(policy.ToJsonString(Indented));
            output.WriteLine($"access log: {services.ProxyAccessLog}");
            return LabResult.Done;
        }

        if (change.FromFile is { } file)
        {
            if (ReadPolicy(file, out var problem) is not { } fromFile)
            {
                return LabResult.Bad(problem);
            }

            // The file's keys win; the lab's others (DenyPrivateDestinations, RequireSniMatch, Mode) stay.
            foreach (var (key, value) in fromFile)
            {
                policy[key] = value?.DeepClone();
            }
        }

        if (change.Mode is { } mode)
        {
            policy["Mode"] = mode.ToString();
        }

        var config = services.ProxyConfigDocument(policy.ToJsonString());
        if (Refusal(config) is { } refusal)
        {
            return LabResult.Bad(refusal) with { Advice = "nothing was changed." };
        }

        var running = LabProcesses.IsRunning(services.ProxyPidFile, "ProxyInstance");
        var namespaceName = environment.Namespace(proxy);
        var before = running ? Reloads(namespaceName) : default;
        (state with { ProxyPolicy = change.Reset ? null : policy.ToJsonString() }).Write(environment);
        services.WriteProxyConfig(config);
        var summary = $"policy mode {policy["Mode"]?.ToString() ?? "Enforce"}, {(policy["Rules"] as JsonArray)?.Count ?? 0} rule(s), default action {policy["DefaultAction"]?.ToString() ?? "Allow"}";
        if (!running)
        {
            output.WriteLine($"saved ({summary}); the proxy is not running: `lab up` starts it with this policy.");
            return LabResult.Done;
        }

        if (WaitForReload(namespaceName, before) is { } failure)
        {
            return LabResult.Failed([$"{failure}: see {services.ProxyLog}"]);
        }

        output.WriteLine($"the proxy reloaded its configuration: {summary}.");
        output.WriteLine($"access log: {services.ProxyAccessLog}");
        return LabResult.Done;
    }

    private static JsonObject PolicyOf(JsonObject config) => config["Proxy"]!["Policy"]!.AsObject();

    /// <summary>The <c>Proxy.Policy</c> section of <paramref name="file"/>, or null with what is wrong in <paramref name="problem"/>.</summary>
    private static JsonObject? ReadPolicy(string file, out string problem)
    {
        const string Expected = "give a configuration file with a \"Proxy\": { \"Policy\": { ... } } section, such as `ProxyInstance allowlist suggest` prints";
        problem = string.Empty;
        if (!File.Exists(file))
        {
            problem = $"--from {file}: no such file; {Expected}";
            return null;
        }

        JsonNode? document;
        try
        {
            document = JsonNode.Parse(File.ReadAllText(file), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            problem = $"--from {file}: not valid JSON ({ex.Message}); {Expected}";
            return null;
        }

        if (document is JsonObject root && root["Proxy"] is JsonObject section && section["Policy"] is JsonObject policy)
        {
            return policy;
        }

        problem = $"--from {file}: has no Proxy.Policy object; {Expected}";
        return null;
    }

    /// <summary>What the proxy's own <c>--check-config</c> says against <paramref name="config"/>, or null when it accepts it.</summary>
    private static string? Refusal(JsonObject config) =>
        ProxyConfigCheck.Refusal(config, "the lab proxy's configuration") is { } report
            ? $"the proxy refuses this policy (its --check-config says):\n{report}"
            : null;

    /// <summary>Waits until the proxy counts a reload of its file after <paramref name="before"/>; null when it applied it, else why not.</summary>
    private string? WaitForReload(string namespaceName, (long Success, long Failure) before)
    {
        var after = before;
        var seen = LabProcesses.WaitFor(() => (after = Reloads(namespaceName)) != before, ReloadTimeout);
        if (!seen)
        {
            return $"the proxy did not reload its configuration within {ReloadTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
        }

        return after.Failure > before.Failure ? "the proxy refused the new configuration and keeps the previous one" : null;
    }

    /// <summary>The proxy's file reloads so far (successful, failed), read from its admin port's metrics.</summary>
    private (long Success, long Failure) Reloads(string namespaceName)
    {
        var metrics = shell.TryRunIn(namespaceName, "curl", "-s", "-m", "1", $"http://127.0.0.1:{LabServices.ProxyAdminPort}/metrics").Output;
        long success = 0, failure = 0;
        foreach (Match match in ReloadSeries().Matches(metrics))
        {
            var labels = match.Groups["labels"].Value;
            if (!labels.Contains("source=\"file\"", StringComparison.Ordinal))
            {
                continue;
            }

            var value = (long)double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            if (labels.Contains("result=\"success\"", StringComparison.Ordinal))
            {
                success += value;
            }
            else
            {
                failure += value;
            }
        }

        return (success, failure);
    }

    [GeneratedRegex(@"^proxy_config_reloads_total\{(?<labels>[^}]*)\} (?<value>[0-9.eE+]+)", RegexOptions.Multiline)]
    private static partial Regex ReloadSeries();
}
