using System.Net;
using EgressLab.LoadTests.Bench;
using EgressLab.ProxyInstance.Policy;

namespace EgressLab.LoadTests.Tests.Bench;

public class PolicyDecisionWorkloadTests
{
    private static readonly Lazy<PolicyDecisionWorkload> Default = new(() => PolicyDecisionWorkload.Create(PolicyDecisionBenchmark.Domains));

    [Theory]
    [InlineData(PolicyDecisionWorkload.MinDomains)]
    [InlineData(1_234)]
    [InlineData(PolicyDecisionBenchmark.Domains)]
    public void Create_Domains_ListsExactlyThatManyDistinctPatterns(int domains)
    {
        var workload = PolicyDecisionWorkload.Create(domains);

        var patterns = workload.Options.Rules.SelectMany(r => r.Domains ?? []).ToList();
        Assert.Equal(domains, patterns.Count);
        Assert.Equal(domains, patterns.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(4, workload.Policy.RuleCount);
    }

    [Fact]
    public void Create_DefaultDomains_MixesExactNamesAndLeadingDotPatternsOfVariousDepths()
    {
        var patterns = Default.Value.Options.Rules.SelectMany(r => r.Domains ?? []).ToList();

        var suffixes = patterns.Count(p => p.StartsWith('.'));
        Assert.InRange(suffixes, patterns.Count / 5, patterns.Count / 3);
        var depths = patterns.Select(p => p.TrimStart('.').Count(c => c == '.') + 1).ToHashSet();
        Assert.Superset(new HashSet<int> { 3, 4, 5, 6 }, depths);
        Assert.Contains("api.eu-west-1.amazonaws.com", patterns);
        Assert.Contains("svc-123.example.com", patterns);
        Assert.Contains("db-45.eu.corp.example.net", patterns);
        Assert.Contains(".tenant-7.example.org", patterns);
    }

    [Fact]
    public void Create_DefaultDomains_RotatesAMixOfAllowedAndRefusedRequests()
    {
        var queries = Default.Value.Queries;

        Assert.Equal(PolicyDecisionWorkload.QueryCount, queries.Count);
        var allowed = queries.Count(q => q.Expected.IsAllowed);
        Assert.InRange(allowed, queries.Count / 2, queries.Count * 4 / 5);
        Assert.Contains(queries, q => q.Expected.RuleName == PolicyDecisionWorkload.CloudRule);
        Assert.Contains(queries, q => q.Expected.RuleName == PolicyDecisionWorkload.InternalRule);
        Assert.Contains(queries, q => q.Expected.RuleName == PolicyDecisionWorkload.PartnerRule);
        Assert.Contains(queries, q => q.Expected.Reason == PolicyReason.RuleDeny);
        Assert.Contains(queries, q => q.Expected.Reason == PolicyReason.DefaultDeny);

        // Hosts as clients send them: mixed case, fully qualified, and many different ones.
        Assert.Contains(queries, q => q.Request.Host.Any(char.IsAsciiLetterUpper));
        Assert.Contains(queries, q => q.Request.Host.EndsWith('.'));
        Assert.True(queries.Select(q => q.Request.Host).Distinct().Count() > queries.Count * 3 / 4, "hosts repeat too often");
        Assert.Contains(queries, q => q.Request.Client.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);
    }

    [Theory]
    [InlineData(PolicyDecisionWorkload.MinDomains)]
    [InlineData(PolicyDecisionBenchmark.Domains)]
    public void Verify_GeneratedWorkload_DecidesEveryRequestAsExpected(int domains)
    {
        var workload = PolicyDecisionWorkload.Create(domains);

        PolicyDecisionWorkload.Verify(workload.Policy, workload.Queries);
    }

    [Fact]
    public void Verify_OneWrongExpectation_ThrowsNamingTheRequest()
    {
        var queries = Default.Value.Queries.ToArray();
        var index = Array.FindIndex(queries, q => q.Expected.IsAllowed);
        queries[index] = queries[index] with { Expected = Default.Value.Policy.DefaultDecision };

        var error = Assert.Throws<InvalidOperationException>(() => PolicyDecisionWorkload.Verify(Default.Value.Policy, queries));

        Assert.Contains("1 of 1024", error.Message, StringComparison.Ordinal);
        Assert.Contains(queries[index].Request.Host, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_PolicyMissingMostOfTheList_Throws()
    {
        var small = PolicyDecisionWorkload.Create(PolicyDecisionWorkload.MinDomains);

        Assert.Throws<InvalidOperationException>(() => PolicyDecisionWorkload.Verify(small.Policy, Default.Value.Queries));
    }

    [Fact]
    public void Verify_RequestFromAnotherClient_Throws()
    {
        var queries = Default.Value.Queries.ToArray();
        var index = Array.FindIndex(queries, q => q.Expected.RuleName == PolicyDecisionWorkload.InternalRule);
        queries[index] = queries[index] with { Request = queries[index].Request with { Client = IPAddress.Parse("203.0.113.7") } };

        Assert.Throws<InvalidOperationException>(() => PolicyDecisionWorkload.Verify(Default.Value.Policy, queries));
    }

    [Fact]
    public void Create_TooFewDomains_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PolicyDecisionWorkload.Create(PolicyDecisionWorkload.MinDomains - 1));
    }
}
