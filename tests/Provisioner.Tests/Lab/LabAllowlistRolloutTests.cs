using System.Text.Json.Nodes;
using EgressLab.Provisioner.Lab;
using EgressLab.Provisioner.Processes;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.Tests.Lab;

/// <summary>
/// The README's "Roll out an allowlist" walk-through, for real in the lab's private subnet: report mode, suggest,
/// review the diff, enforce. Needs root, like every lab test.
/// </summary>
[Collection(LabTestGroup.Name)]
public sealed class LabAllowlistRolloutTests
{
    private const string Proxy = "http://10.10.2.200:3128";
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ProxyPolicy_ReportSuggestDiffEnforce_LearnsTheAllowlistFromTheTraffic()
    {
        Requirements.SkipUnless(LabRunner.Unavailable() is null, LabRunner.Unavailable() ?? "");
        var lab = new LabRunner();
        var topology = TopologyLoader.Load(DefaultTopology.Path);
        Assert.True(topology.Succeeded, string.Join("\n", topology.Errors));
        var accessLog = new LabServices(lab.Environment, topology.Model!).ProxyAccessLog;
        var work = Directory.CreateTempSubdirectory("egress-lab-rollout-");
        var candidate = Path.Combine(work.FullName, "candidate.json");
        try
        {
            // The private subnet leaves through the proxy only, as at the end of the lab walk-through.
            string[][] setup = [["up"], ["route", "add", "private", "0.0.0.0/0", "--target", "nat"], ["source-dest-check", "nat", "off"], ["egress", "proxy-only"]];
            foreach (var step in setup)
            {
                var done = await lab.RunAsync(["lab", .. step], null);
                Assert.True(done.ExitCode == 0, done.Output);
            }

            // 1. Report mode: a name outside the allowlist goes through, and the log says what would have denied it.
            var report = await lab.RunAsync("lab", "proxy-policy", "--mode", "report");
            Assert.True(report.ExitCode == 0, report.Output);
            Assert.Contains("the proxy reloaded its configuration: policy mode Report", report.Output, StringComparison.Ordinal);
            Assert.Equal("200 200", await ConnectAndStatusAsync(lab, "www.lab.test"));
            Assert.Equal("200 200", await ConnectAndStatusAsync(lab, "denied.lab.test"));
            var reported = await LogLineAsync(accessLog, "CONNECT denied.lab.test:443");
            Assert.Contains(" TCP_TUNNEL/200 ", reported, StringComparison.Ordinal);
            Assert.Contains(" WOULD_DENY:default OK", reported, StringComparison.Ordinal);
            Assert.Contains(" allowlist OK", await LogLineAsync(accessLog, "CONNECT www.lab.test:443"), StringComparison.Ordinal);

            // 2. Suggest: the rules cover what was used, and nothing that was only listed (checkip had no traffic).
            var suggest = await ProxyToolAsync("allowlist", "suggest", "--from", accessLog);
            Assert.True(suggest.ExitCode == 0, suggest.Error);
            await File.WriteAllTextAsync(candidate, suggest.Output, TestContext.Current.CancellationToken);
            var rules = JsonNode.Parse(suggest.Output)!["Proxy"]!["Policy"]!["Rules"]!.AsArray();
            var domains = rules.SelectMany(r => r!["Domains"]!.AsArray()).Select(d => (string)d!).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(["denied.lab.test", "www.lab.test"], domains);

            // 3. Review the diff: the candidate denies nothing that went through.
            var diff = await ProxyToolAsync("allowlist", "diff", "--config", candidate, "--from", accessLog);
            Assert.True(diff.ExitCode == 0, diff.Output + diff.Error);
            Assert.Contains("would deny none of the 2 logged request(s)", diff.Output, StringComparison.Ordinal);

            // 4. Enforce the candidate: what was seen still works, a name outside it is refused.
            var enforce = await lab.RunAsync("lab", "proxy-policy", "--from", candidate, "--mode", "enforce");
            Assert.True(enforce.ExitCode == 0, enforce.Output);
            Assert.Contains("policy mode Enforce, 1 rule(s), default action Deny", enforce.Output, StringComparison.Ordinal);
            Assert.Equal("200 200", await ConnectAndStatusAsync(lab, "denied.lab.test"));
            var refused = await lab.RunAsync("lab", "exec", "private-1", "--", "curl", "-s", "-v", "-m", "5", "-o", "/dev/null", "-x", Proxy, "https://checkip.lab.test/");
            Assert.Contains("< HTTP/1.1 403 Forbidden", refused.Output, StringComparison.Ordinal);
            Assert.Contains("< X-Proxy-Error: ERR_ACCESS_DENIED", refused.Output, StringComparison.Ordinal);
            Assert.Contains(" TCP_DENIED/403 ", await LogLineAsync(accessLog, "CONNECT checkip.lab.test:443"), StringComparison.Ordinal);

            // Bad input changes nothing, and says what is wrong.
            var missing = await lab.RunAsync("lab", "proxy-policy", "--from", Path.Combine(work.FullName, "nowhere.json"));
            Assert.True(missing.ExitCode == 2, missing.Output);
            Assert.Contains("no such file", missing.Output, StringComparison.Ordinal);
            var invalid = Path.Combine(work.FullName, "invalid.json");
            await File.WriteAllTextAsync(invalid, """{ "Proxy": { "Policy": { "DefaultAction": "Nope" } } }""", TestContext.Current.CancellationToken);
            var rejected = await lab.RunAsync("lab", "proxy-policy", "--from", invalid);
            Assert.True(rejected.ExitCode == 2, rejected.Output);
            Assert.Contains("$.Proxy.Policy.DefaultAction: 'Nope' is not a valid action", rejected.Output, StringComparison.Ordinal);
            Assert.Contains("nothing was changed.", rejected.Output, StringComparison.Ordinal);
            Assert.Equal(2, (await lab.RunAsync("lab", "proxy-policy", "--from", candidate, "--reset")).ExitCode);

            // A second `lab up` keeps the policy; --reset puts back the topology's allowlist.
            Assert.Equal(0, (await lab.RunAsync("lab", "up")).ExitCode);
            Assert.Equal("200 200", await ConnectAndStatusAsync(lab, "denied.lab.test"));
            Assert.Equal(0, (await lab.RunAsync("lab", "proxy-policy", "--reset")).ExitCode);
            Assert.Equal("403 000", await ConnectAndStatusAsync(lab, "denied.lab.test"));
            Assert.Equal("200 200", await ConnectAndStatusAsync(lab, "checkip.lab.test"));
        }
        finally
        {
            work.Delete(recursive: true);
            var down = await lab.RunAsync("lab", "down");
            Assert.True(down.ExitCode == 0, down.Output);
        }

        Assert.Empty(lab.Leftovers());
    }

    /// <summary>The proxy's answer to CONNECT and the origin's status, from private-1 through the proxy.</summary>
    private static async Task<string> ConnectAndStatusAsync(LabRunner lab, string name)
    {
        var result = await lab.RunAsync("lab", "exec", "private-1", "--", "curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_connect} %{http_code}", "-x", Proxy, $"https://{name}/");
        return result.Output.Trim();
    }

    /// <summary>The newest access-log line containing <paramref name="text"/>; lines are written just after the tunnel ends.</summary>
    private static async Task<string> LogLineAsync(string accessLog, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var line = File.Exists(accessLog) ? (await File.ReadAllLinesAsync(accessLog, TestContext.Current.CancellationToken)).LastOrDefault(l => l.Contains(text, StringComparison.Ordinal)) : null;
            if (line is not null)
            {
                return line;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no line with '{text}' in {accessLog} after 10 s");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static Task<CommandResult> ProxyToolAsync(params string[] arguments) =>
        ProcessRunner.RunAsync(LabPrerequisites.DotnetHost(), [LabPrerequisites.ProxyAssembly(), .. arguments], ToolTimeout, TestContext.Current.CancellationToken);
}
