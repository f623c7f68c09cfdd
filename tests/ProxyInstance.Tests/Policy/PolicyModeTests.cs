using System.Net;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Policy;

namespace EgressLab.ProxyInstance.Tests.Policy;

/// <summary>Report mode: which denials are only reported, globally, per rule and per client, and at what cost.</summary>
public sealed class PolicyModeTests
{
    private const string Default = "(default)";

    private static PolicyOptions Options(string? mode, List<string>? reportSources = null) => new()
    {
        DefaultAction = "Deny",
        Mode = mode,
        ReportSources = reportSources,
        Rules =
        [
            new RuleOptions { Name = "blocked", Action = "Deny", Domains = [".blocked.example"] },
            new RuleOptions { Name = "trial-deny", Action = "Deny", Domains = [".trial.example"], Mode = "Report" },
            new RuleOptions { Name = "known-bad", Action = "Deny", Domains = [".bad.example"], Mode = "Enforce" },
            new RuleOptions { Name = "allowed", Action = "Allow", Domains = [".example.com"] },
        ],
    };

    [Theory]
    // Enforce: only the rule with Mode Report is let through.
    [InlineData("Enforce", "10.1.2.3", "www.example.com", "allowed", "Allow", false)]
    [InlineData("Enforce", "10.1.2.3", "x.blocked.example", "blocked", "Deny", false)]
    [InlineData("Enforce", "10.1.2.3", "x.trial.example", "trial-deny", "Deny", true)]
    [InlineData("Enforce", "10.1.2.3", "x.bad.example", "known-bad", "Deny", false)]
    [InlineData("Enforce", "10.1.2.3", "example.org", Default, "Deny", false)]
    // Report: every denial is reported except a rule that says Enforce.
    [InlineData("Report", "10.1.2.3", "www.example.com", "allowed", "Allow", false)]
    [InlineData("Report", "10.1.2.3", "x.blocked.example", "blocked", "Deny", true)]
    [InlineData("Report", "10.1.2.3", "x.trial.example", "trial-deny", "Deny", true)]
    [InlineData("Report", "10.1.2.3", "x.bad.example", "known-bad", "Deny", false)]
    [InlineData("Report", "10.1.2.3", "example.org", Default, "Deny", true)]
    // Absent means Enforce.
    [InlineData(null, "10.1.2.3", "example.org", Default, "Deny", false)]
    public void Decide_ByMode_ReportsTheDenialsItShould(string? mode, string client, string host, string rule, string action, bool reportOnly)
    {
        var policy = Compile(Options(mode));

        var decision = policy.Decide(new PolicyRequest(IPAddress.Parse(client), null, "CONNECT", host, 443));

        Assert.Equal(rule == Default ? null : rule, decision.RuleName);
        Assert.Equal(Enum.Parse<PolicyAction>(action), decision.Action);
        Assert.Equal(reportOnly, decision.ReportOnly);
        Assert.Equal(reportOnly, decision.WouldDeny);
        Assert.Equal(action == "Allow" || reportOnly, decision.IsAllowed);
    }

    [Theory]
    [InlineData("10.1.2.3", "x.blocked.example", true)]
    [InlineData("10.1.2.3", "example.org", true)]
    [InlineData("10.1.2.3", "x.bad.example", false)]
    [InlineData("10.9.0.1", "x.blocked.example", false)]
    [InlineData("10.9.0.1", "example.org", false)]
    [InlineData("2001:db8::7", "example.org", true)]
    public void Decide_ReportSources_ReportOnlyTheirClientsDenials(string client, string host, bool reportOnly)
    {
        var policy = Compile(Options("Enforce", ["10.1.0.0/16", "2001:db8::/32"]));

        var decision = policy.Decide(new PolicyRequest(IPAddress.Parse(client), null, "GET", host, 443));

        Assert.Equal(PolicyAction.Deny, decision.Action);
        Assert.Equal(reportOnly, decision.WouldDeny);
    }

    [Fact]
    public void Decide_Report_SameDecisionInstanceEveryTimeAndNoAllocation()
    {
        var policy = Compile(Options("Report", ["10.0.0.0/8"]));
        var ruleDenied = new PolicyRequest(IPAddress.Loopback, null, "GET", "WWW.Blocked.Example.", 443);
        var defaultDenied = new PolicyRequest(IPAddress.Loopback, null, "GET", "a.b.example.org", 443);
        Assert.Same(policy.Decide(ruleDenied), policy.Decide(ruleDenied));
        Assert.Same(policy.Decide(defaultDenied), policy.Decide(defaultDenied));

        var (allocated, _) = TestHost.Allocations.Least(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                policy.Decide(ruleDenied);
                policy.Decide(defaultDenied);
            }
        });

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Decide_EnforcedDecisions_AreNotReportOnly()
    {
        var policy = Compile(Options(null));

        Assert.Equal(new PolicyDecision(PolicyAction.Deny, PolicyReason.DefaultDeny, null), policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "example.org", 443)));
        Assert.Equal(PolicyMode.Enforce, policy.Mode);
        Assert.Empty(policy.ReportSources);
    }

    private static CompiledPolicy Compile(PolicyOptions options)
    {
        var errors = new List<ConfigError>();
        Assert.True(PolicyCompiler.TryCompile(options, "Proxy:Policy", errors, out var policy), string.Join("; ", errors));
        return policy!;
    }
}
