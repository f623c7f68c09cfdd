using System.Net;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Policy;

namespace EgressLab.ProxyInstance.Tests.Policy;

public sealed class CompiledPolicyTests
{
    private const string Default = "(default)";

    // Default Allow, and a final condition-less Deny rule, so a request that falls through every rule shows
    // whether it was on 80/443 (caught by the last rule) or another port (reaches the default).
    private static readonly CompiledPolicy Policy = Compile(
        "Allow",
        new RuleOptions { Name = "deny-blocked", Action = "Deny", Domains = [".blocked.example"] },
        new RuleOptions { Name = "mirror-ssh", Action = "Allow", Domains = ["git.example.com"], Ports = [22] },
        new RuleOptions { Name = "office-only", Action = "Allow", Domains = ["intranet.example"], Sources = ["10.1.0.0/16", "2001:db8:1::/48"] },
        new RuleOptions { Name = "readonly", Action = "Allow", Domains = ["api.example"], Methods = ["get", "Head"] },
        new RuleOptions { Name = "alice-only", Action = "Allow", Domains = ["alice.example"], Users = ["alice"] },
        new RuleOptions { Name = "cidrs-only", Action = "Allow", DestinationCidrs = ["192.0.2.0/24", "2001:db8:ff::/48"] },
        new RuleOptions { Name = "both", Action = "Allow", Domains = ["both.example"], DestinationCidrs = ["198.51.100.0/24"], Ports = [8443] },
        new RuleOptions { Name = "idn", Action = "Allow", Domains = ["*.bücher.example"] },
        new RuleOptions { Name = "tunnels", Action = "Allow", Domains = ["tunnel.example"], Methods = ["CONNECT"], Ports = [443, 8443] },
        new RuleOptions { Name = "wide", Action = "Allow", Domains = [".example.com"] },
        new RuleOptions { Name = "catch-all", Action = "Deny" });

    [Theory]
    // Domains, and rules without Ports cover 80 and 443 only.
    [InlineData("10.9.9.9", null, "GET", "www.blocked.example", 443, "deny-blocked", false)]
    [InlineData("10.9.9.9", null, "GET", "blocked.example", 80, "deny-blocked", false)]
    [InlineData("10.9.9.9", null, "GET", "blocked.example", 8080, Default, true)]
    [InlineData("10.9.9.9", null, "GET", "www.example.com", 443, "wide", true)]
    [InlineData("10.9.9.9", null, "GET", "WWW.Example.COM.", 80, "wide", true)]
    [InlineData("10.9.9.9", null, "GET", "example.com", 443, "wide", true)]
    [InlineData("10.9.9.9", null, "GET", "www.example.com", 8443, Default, true)]
    [InlineData("10.9.9.9", null, "GET", "example.org", 443, "catch-all", false)]
    // Explicit ports replace 80/443 rather than adding to them.
    [InlineData("10.9.9.9", null, "CONNECT", "git.example.com", 22, "mirror-ssh", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "git.example.com", 443, "wide", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "git.example.com", 2222, Default, true)]
    // Sources: IPv4, IPv4-mapped IPv6, IPv6.
    [InlineData("10.1.2.3", null, "GET", "intranet.example", 443, "office-only", true)]
    [InlineData("::ffff:10.1.2.3", null, "GET", "intranet.example", 443, "office-only", true)]
    [InlineData("2001:db8:1::5", null, "GET", "intranet.example", 443, "office-only", true)]
    [InlineData("10.2.0.1", null, "GET", "intranet.example", 443, "catch-all", false)]
    [InlineData("::ffff:10.2.0.1", null, "GET", "intranet.example", 443, "catch-all", false)]
    [InlineData("2001:db8:2::5", null, "GET", "intranet.example", 443, "catch-all", false)]
    // Methods: configured in any case, matched case-sensitively against upper case.
    [InlineData("10.9.9.9", null, "GET", "api.example", 443, "readonly", true)]
    [InlineData("10.9.9.9", null, "HEAD", "api.example", 443, "readonly", true)]
    [InlineData("10.9.9.9", null, "get", "api.example", 443, "catch-all", false)]
    [InlineData("10.9.9.9", null, "POST", "api.example", 443, "catch-all", false)]
    [InlineData("10.9.9.9", null, "CONNECT", "tunnel.example", 8443, "tunnels", true)]
    [InlineData("10.9.9.9", null, "GET", "tunnel.example", 8443, Default, true)]
    // Users: ordinal, and never an unauthenticated request.
    [InlineData("10.9.9.9", "alice", "GET", "alice.example", 443, "alice-only", true)]
    [InlineData("10.9.9.9", "Alice", "GET", "alice.example", 443, "catch-all", false)]
    [InlineData("10.9.9.9", "bob", "GET", "alice.example", 443, "catch-all", false)]
    [InlineData("10.9.9.9", null, "GET", "alice.example", 443, "catch-all", false)]
    // DestinationCidrs match IP literals only; Domains match names only.
    [InlineData("10.9.9.9", null, "CONNECT", "192.0.2.10", 443, "cidrs-only", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "[2001:db8:ff::1]", 443, "cidrs-only", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "2001:db8:ff::1", 443, "cidrs-only", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "::ffff:192.0.2.10", 443, "cidrs-only", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "203.0.113.1", 443, "catch-all", false)]
    // Forms the resolver also reads as addresses are addresses, not names.
    [InlineData("10.9.9.9", null, "CONNECT", "192.0.2.10.", 443, "cidrs-only", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "3221225994", 443, "cidrs-only", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "0xc0.0.2.10", 443, "cidrs-only", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "192.0.522", 443, "cidrs-only", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "192.0.2.10.example.com", 443, "wide", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "other.test", 443, "catch-all", false)]
    // A rule with both: a name must match Domains, a literal must match DestinationCidrs.
    [InlineData("10.9.9.9", null, "CONNECT", "both.example", 8443, "both", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "198.51.100.7", 8443, "both", true)]
    [InlineData("10.9.9.9", null, "CONNECT", "192.0.2.10", 8443, Default, true)]
    [InlineData("10.9.9.9", null, "CONNECT", "www.both.example", 8443, Default, true)]
    // Internationalised names: the pattern was written in Unicode, hosts arrive either way.
    [InlineData("10.9.9.9", null, "GET", "www.xn--bcher-kva.example", 443, "idn", true)]
    [InlineData("10.9.9.9", null, "GET", "WWW.BÜCHER.EXAMPLE.", 443, "idn", true)]
    [InlineData("10.9.9.9", null, "GET", "bücher.example", 443, "catch-all", false)]
    // Hosts that are neither valid names nor canonical literals match no destination condition.
    [InlineData("10.9.9.9", null, "GET", "[not-an-address]", 443, "catch-all", false)]
    [InlineData("10.9.9.9", null, "GET", "www..example.com", 443, "catch-all", false)]
    [InlineData("10.9.9.9", null, "GET", "", 443, "catch-all", false)]
    public void Decide_Request_FirstMatchingRuleDecides(
        string client, string? user, string method, string host, int port, string expectedRule, bool expectedAllowed)
    {
        var decision = Policy.Decide(new PolicyRequest(IPAddress.Parse(client), user, method, host, port));

        Assert.Equal(expectedRule == Default ? null : expectedRule, decision.RuleName);
        Assert.Equal(expectedAllowed, decision.IsAllowed);
        var expectedReason = (expectedRule == Default, expectedAllowed) switch
        {
            (true, true) => PolicyReason.DefaultAllow,
            (true, false) => PolicyReason.DefaultDeny,
            (false, true) => PolicyReason.RuleAllow,
            (false, false) => PolicyReason.RuleDeny,
        };
        Assert.Equal(expectedReason, decision.Reason);
    }

    [Theory]
    [InlineData(false, "allow-first")]
    [InlineData(true, "deny-first")]
    public void Decide_OverlappingRules_EarlierRuleWins(bool denyFirst, string expectedRule)
    {
        var allow = new RuleOptions { Name = "allow-first", Action = "Allow", Domains = [".example.com"] };
        var deny = new RuleOptions { Name = "deny-first", Action = "Deny", Domains = ["www.example.com"] };
        var policy = denyFirst ? Compile("Deny", deny, allow) : Compile("Deny", allow, deny);

        var decision = policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "www.example.com", 443));

        Assert.Equal(expectedRule, decision.RuleName);
        Assert.Equal(!denyFirst, decision.IsAllowed);
    }

    [Theory]
    [InlineData("192.0.2.1", null, "GET", "example.org", 80, true)]
    [InlineData("2001:db8::1", "carol", "PATCH", "203.0.113.9", 443, true)]
    [InlineData("192.0.2.1", null, "CONNECT", "[2001:db8::9]", 443, true)]
    [InlineData("192.0.2.1", null, "GET", "example.org", 8080, false)]
    [InlineData("192.0.2.1", null, "GET", "example.org", 22, false)]
    public void Decide_RuleWithoutConditions_MatchesAnythingOnWebPortsOnly(
        string client, string? user, string method, string host, int port, bool expectedMatch)
    {
        var policy = Compile("Deny", new RuleOptions { Name = "open", Action = "Allow" });

        var decision = policy.Decide(new PolicyRequest(IPAddress.Parse(client), user, method, host, port));

        Assert.Equal(expectedMatch ? "open" : null, decision.RuleName);
        Assert.Equal(expectedMatch, decision.IsAllowed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65536)]
    public void Decide_PortOutOfRange_MatchesNoRule(int port)
    {
        var policy = Compile("Deny", new RuleOptions { Name = "open", Action = "Allow", Ports = [1, 65535] });

        Assert.Equal(PolicyReason.DefaultDeny, policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "example.org", port)).Reason);
    }

    [Fact]
    public void Decide_SameRuleTwice_ReturnsSameDecisionInstance()
    {
        var first = Policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "www.example.com", 443));
        var second = Policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "a.example.com", 80));
        var defaultFirst = Policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "example.org", 1));
        var defaultSecond = Policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "example.net", 2));

        Assert.Same(first, second);
        Assert.Same(defaultFirst, defaultSecond);
    }

    [Fact]
    public void Decide_AsciiNameAnyCase_DoesNotAllocate()
    {
        var request = new PolicyRequest(IPAddress.Loopback, "alice", "GET", "WWW.Example.COM.", 443);
        var unmatched = new PolicyRequest(IPAddress.Loopback, "alice", "GET", "a.b.c.example.org", 443);
        Policy.Decide(request);
        Policy.Decide(unmatched);

        var (allocated, _) = TestHost.Allocations.Least(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                Policy.Decide(request);
                Policy.Decide(unmatched);
            }
        });

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Decide_TenThousandDomainAllowlist_DecidesCorrectly()
    {
        var domains = new List<string>(10_000);
        for (var i = 0; i < 10_000; i++)
        {
            domains.Add(i % 2 == 0 ? $"service{i}.example.com" : $".tenant{i}.example.net");
        }

        var policy = Compile("Deny", new RuleOptions { Name = "allowlist", Action = "Allow", Domains = domains });

        for (var i = 0; i < 10_000; i++)
        {
            var host = i % 2 == 0 ? $"service{i}.example.com" : $"api.tenant{i}.example.net";
            var miss = i % 2 == 0 ? $"www.service{i}.example.com" : $"api.tenant{i}.example.org";
            Assert.True(policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "CONNECT", host, 443)).IsAllowed, host);
            Assert.False(policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "CONNECT", miss, 443)).IsAllowed, miss);
        }
    }

    private static CompiledPolicy Compile(string defaultAction, params RuleOptions[] rules)
    {
        var errors = new List<ConfigError>();
        var ok = PolicyCompiler.TryCompile(
            new PolicyOptions { DefaultAction = defaultAction, Rules = [.. rules] }, "Proxy:Policy", errors, out var policy);
        Assert.True(ok, string.Join("; ", errors));
        return policy!;
    }
}
