using System.Text.Json;
using System.Text.RegularExpressions;
using EgressLab.ProxyInstance.Errors;
using EgressLab.ProxyInstance.Tests.Admin;
using EgressLab.ProxyInstance.Tests.Metrics;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Deploy;

/// <summary>The operator's kit in deploy/: Prometheus alert rules and the Grafana dashboard, checked against the proxy's real metrics.</summary>
public sealed partial class OperatorKitTests
{
    private static readonly string PrometheusDirectory = Path.Combine(Repository.Root, "deploy", "prometheus");
    private static readonly string Rules = Path.Combine(PrometheusDirectory, "egress-proxy-rules.yml");
    private static readonly string Dashboard = Path.Combine(Repository.Root, "deploy", "grafana", "egress-proxy.json");

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AlertRules_PromtoolCheckRules_Succeeds()
    {
        var check = await Promtool.RunAsync(["check", "rules", Rules], PrometheusDirectory, Token);

        Assert.True(check.ExitCode == 0, $"promtool check rules: {check}");
        Assert.Contains("SUCCESS", check.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlertRules_PromtoolUnitTests_FireOnSyntheticSeries()
    {
        var test = await Promtool.RunAsync(["test", "rules", "egress-proxy-rules.test.yml"], PrometheusDirectory, Token);

        Assert.True(test.ExitCode == 0, $"promtool test rules: {test}");
        var cases = await File.ReadAllTextAsync(Path.Combine(PrometheusDirectory, "egress-proxy-rules.test.yml"), Token);
        Assert.True(FiringExpectations().Count(cases) >= 2, "the rule tests must prove at least two alerts fire");
    }

    [Fact]
    public async Task RulesAndDashboard_NameOnlyMetricsTheProxyExports()
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com"]);
        var exported = PrometheusText.Parse(await AdminEndpointTests.ScrapeAfterTrafficAsync(origin)).Samples.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var rules = await File.ReadAllTextAsync(Rules, Token);
        var queries = DashboardQueries(await File.ReadAllTextAsync(Dashboard, Token));

        var named = MetricName().Matches(rules + "\n" + string.Join("\n", queries)).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);

        Assert.Contains("proxy_sni_mismatch_total", named);
        Assert.Contains("proxy_config_reloads_total", named);
        Assert.Contains("dotnet_gc_collections_total", named);
        Assert.All(named, name => Assert.True(exported.Contains(name), $"{name} is named in deploy/ but the proxy's /metrics has no such series"));
    }

    [Fact]
    public async Task AlertRules_ErrorCodes_AreCodesTheProxySends()
    {
        var codes = Enum.GetValues<ProxyError>().Select(ProxyErrorResponses.Code).ToHashSet(StringComparer.Ordinal);
        var rules = await File.ReadAllTextAsync(Rules, Token);

        var literal = ErrorCode().Matches(rules).Select(m => m.Value).Where(code => !code.EndsWith('_')).ToList();
        var prefixes = ErrorCode().Matches(rules).Select(m => m.Value).Where(code => code.EndsWith('_')).ToList();

        Assert.NotEmpty(literal);
        Assert.All(literal, code => Assert.True(codes.Contains(code), $"{code} in the rules is no error code of the proxy's"));
        Assert.All(prefixes, prefix => Assert.True(codes.Any(c => c.StartsWith(prefix, StringComparison.Ordinal)), $"no error code starts with {prefix}"));
    }

    [Fact]
    public async Task Dashboard_Panels_HaveUniqueIdsAndQueriesOnTheDataSourceVariable()
    {
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(Dashboard, Token));
        var panels = document.RootElement.GetProperty("panels").EnumerateArray().ToList();

        var ids = panels.Select(p => p.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var graphs = panels.Where(p => p.GetProperty("type").GetString() != "row").ToList();
        Assert.True(graphs.Count >= 10);
        Assert.All(graphs, panel =>
        {
            var title = panel.GetProperty("title").GetString();
            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.True(panel.GetProperty("targets").GetArrayLength() > 0, $"panel '{title}' has no query");
        });
    }

    private static List<string> DashboardQueries(string json)
    {
        using var document = JsonDocument.Parse(json);
        var queries = new List<string>();
        Collect(document.RootElement);
        return queries;

        void Collect(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name is "expr" or "definition" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        queries.Add(property.Value.GetString()!);
                    }

                    Collect(property.Value);
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item);
                }
            }
        }
    }

    [GeneratedRegex(@"\b(?:proxy|dotnet|process)_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"\bERR_[A-Z_]+")]
    private static partial Regex ErrorCode();

    [GeneratedRegex(@"exp_alerts:\s*\n\s*- exp_labels:")]
    private static partial Regex FiringExpectations();
}
