using System.Net;
using EgressLab.ProxyInstance.AccessLog;
using EgressLab.ProxyInstance.Allowlist;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Tests.Allowlist;

public sealed class AllowlistSuggesterTests
{
    private static readonly string[] ThreeLabels = ["a", "b", "c"];

    private static readonly SuggestionSettings Defaults = new(AllowlistArguments.DefaultSiblings, AllowlistArguments.DefaultClientPrefix, AllowlistArguments.DefaultClientPrefix6);

    internal static LoggedRequest Request(string client, string method, string host, int port, LoggedDecision decision = LoggedDecision.Allowed)
    {
        Assert.True(EgressTarget.TryCreate(host, port, out var target));
        return new LoggedRequest(DateTimeOffset.UnixEpoch, IPAddress.Parse(client), null, method, target, decision, null);
    }

    private static List<RuleOptions> Suggest(IEnumerable<LoggedRequest> requests, SuggestionSettings? settings = null)
    {
        var suggester = new AllowlistSuggester(settings ?? Defaults);
        foreach (var request in requests)
        {
            suggester.Add(request);
        }

        return suggester.Suggest();
    }

    [Fact]
    public void Suggest_TunnelsAndPlainRequestsToOneName_GetSeparateRulesWithTheirPortsAndMethods()
    {
        var rules = Suggest(
        [
            Request("10.10.2.101", "CONNECT", "api.example.com", 443),
            Request("10.10.2.101", "CONNECT", "api.example.com", 8443),
            Request("10.10.2.102", "GET", "api.example.com", 80),
            Request("10.10.2.102", "POST", "api.example.com", 80),
        ]);

        Assert.Collection(rules,
            connect =>
            {
                Assert.Equal("seen-example-com-connect", connect.Name);
                Assert.Equal("Allow", connect.Action);
                Assert.Equal(["api.example.com"], connect.Domains!);
                Assert.Equal([443, 8443], connect.Ports!);
                Assert.Equal(["CONNECT"], connect.Methods!);
                Assert.Equal(["10.10.2.0/24"], connect.Sources!);
            },
            http =>
            {
                Assert.Equal("seen-example-com-http", http.Name);
                Assert.Equal([80], http.Ports!);
                Assert.Equal(["GET", "POST"], http.Methods!);
            });
    }

    [Fact]
    public void Suggest_SiblingsUnderThreshold_ListsNamesInOneRule_AtThreshold_TheParent()
    {
        var two = Suggest([Request("10.0.0.1", "CONNECT", "a.example.com", 443), Request("10.0.0.1", "CONNECT", "b.example.com", 443)]);
        var three = Suggest([.. ThreeLabels.Select(l => Request("10.0.0.1", "CONNECT", $"{l}.example.com", 443))]);

        Assert.Equal(["a.example.com", "b.example.com"], Assert.Single(two).Domains!);
        Assert.Equal([".example.com"], Assert.Single(three).Domains!);
    }

    [Fact]
    public void Suggest_SiblingsOptionRaised_KeepsNames()
    {
        var rules = Suggest([.. ThreeLabels.Select(l => Request("10.0.0.1", "CONNECT", $"{l}.example.com", 443))], Defaults with { Siblings = 4 });

        Assert.Equal(["a.example.com", "b.example.com", "c.example.com"], Assert.Single(rules).Domains!);
    }

    [Fact]
    public void Suggest_DifferentPortsWithinOneSite_SplitsRulesAndNamesThemByPort()
    {
        var rules = Suggest([Request("10.0.0.1", "CONNECT", "api.example.com", 443), Request("10.0.0.1", "CONNECT", "git.example.com", 22)]);

        Assert.Equal(["seen-example-com-connect-22", "seen-example-com-connect-443"], rules.Select(r => r.Name));
        Assert.Equal(["git.example.com"], rules[0].Domains!);
    }

    [Fact]
    public void Suggest_AddressLiterals_GetSingleAddressCidrsAndAreNeverGeneralised()
    {
        var rules = Suggest([.. ThreeLabels.Select(l => Request("10.0.0.1", "CONNECT", $"203.0.113.{l[0] - 'a' + 1}", 443)), Request("10.0.0.1", "CONNECT", "[2001:db8::1]", 443)]);

        Assert.Equal(4, rules.Count);
        Assert.All(rules, r => Assert.Null(r.Domains));
        Assert.Contains(rules, r => r.DestinationCidrs!.SequenceEqual(["203.0.113.1/32"]) && r.Name == "seen-203-0-113-1-connect");
        Assert.Contains(rules, r => r.DestinationCidrs!.SequenceEqual(["2001:db8::1/128"]));
    }

    [Fact]
    public void Suggest_ClientsAcrossNetworks_GroupedByPrefixAndMerged()
    {
        var rules = Suggest(
        [
            Request("10.0.0.5", "CONNECT", "api.example.com", 443),
            Request("10.0.1.9", "CONNECT", "api.example.com", 443),
            Request("192.168.7.7", "CONNECT", "api.example.com", 443),
            Request("2001:db8::7", "CONNECT", "api.example.com", 443),
        ]);

        Assert.Equal(["10.0.0.0/23", "192.168.7.0/24", "2001:db8::/64"], Assert.Single(rules).Sources!);
    }

    [Fact]
    public void Suggest_ClientPrefixOption_ChangesTheGrouping()
    {
        var rules = Suggest([Request("10.0.0.5", "CONNECT", "api.example.com", 443), Request("10.0.0.9", "CONNECT", "api.example.com", 443)], Defaults with { ClientPrefix = 32 });

        Assert.Equal(["10.0.0.5/32", "10.0.0.9/32"], Assert.Single(rules).Sources!);
    }

    [Fact]
    public void Suggest_SameRequestsInAnyOrder_GivesTheSameRules()
    {
        LoggedRequest[] requests =
        [
            Request("10.0.0.5", "CONNECT", "b.example.org", 443),
            Request("10.0.3.5", "GET", "www.example.com", 80),
            Request("10.0.0.5", "CONNECT", "a.example.org", 443),
            Request("10.0.9.5", "CONNECT", "203.0.113.5", 8443),
            Request("10.0.0.5", "CONNECT", "c.example.org", 443),
            Request("10.0.0.5", "PUT", "www.example.com", 8080),
        ];

        var forward = Suggest(requests);
        var backward = Suggest(requests.Reverse());

        Assert.Equal(Describe(forward), Describe(backward));
        Assert.Equal(["seen-203-0-113-5-connect", "seen-example-com-http", "seen-example-org-connect"], forward.Select(r => r.Name));

        static string Describe(List<RuleOptions> rules) => string.Join("\n", rules.Select(r =>
            $"{r.Name} {string.Join(',', r.Sources!)} {string.Join(',', (r.Domains ?? r.DestinationCidrs)!)} {string.Join(',', r.Ports!)} {string.Join(',', r.Methods!)}"));
    }
}
