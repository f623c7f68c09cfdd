using System.Net;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Policy;

namespace EgressLab.ProxyInstance.Tests.Configuration;

public sealed class PolicyCompilerTests
{
    private const string Section = "Proxy:Policy";

    [Fact]
    public void TryCompile_EmptyOptions_UsesDefaults()
    {
        var errors = new List<ConfigError>();

        Assert.True(PolicyCompiler.TryCompile(new PolicyOptions(), Section, errors, out var policy));

        Assert.Empty(errors);
        Assert.Equal(0, policy.RuleCount);
        Assert.True(policy.DenyPrivateDestinations);
        Assert.Empty(policy.AllowedPrivateDestinations);
        Assert.Equal(SniMode.Require, policy.SniMode);
        var decision = policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "example.com", 80));
        Assert.Equal(PolicyAction.Deny, decision.Action);
        Assert.Equal(PolicyReason.DefaultDeny, decision.Reason);
        Assert.Null(decision.RuleName);
        Assert.False(decision.IsAllowed);
    }

    [Theory]
    [InlineData("Allow", "Allow", "DefaultAllow")]
    [InlineData("allow", "Allow", "DefaultAllow")]
    [InlineData("DENY", "Deny", "DefaultDeny")]
    [InlineData("deny", "Deny", "DefaultDeny")]
    public void TryCompile_DefaultAction_IsCaseInsensitive(string text, string action, string reason)
    {
        var policy = CompileOrFail(new PolicyOptions { DefaultAction = text });

        var decision = policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "example.com", 80));

        Assert.Equal(Enum.Parse<PolicyAction>(action), decision.Action);
        Assert.Equal(Enum.Parse<PolicyReason>(reason), decision.Reason);
    }

    [Theory]
    [InlineData("Require", "Require")]
    [InlineData("true", "Require")]
    [InlineData("TRUE", "Require")]
    [InlineData("AllowMissing", "AllowMissing")]
    [InlineData("allowmissing", "AllowMissing")]
    [InlineData("Off", "Off")]
    [InlineData("false", "Off")]
    [InlineData("False", "Off")]
    public void TryCompile_RequireSniMatch_MapsToMode(string text, string expected)
    {
        var policy = CompileOrFail(new PolicyOptions { RequireSniMatch = text });

        Assert.Equal(Enum.Parse<SniMode>(expected), policy.SniMode);
    }

    [Fact]
    public void TryCompile_PrivateDestinationSettings_AreExposed()
    {
        var policy = CompileOrFail(new PolicyOptions
        {
            DenyPrivateDestinations = false,
            AllowedPrivateDestinations = ["10.20.0.0/16", "192.168.1.1", "fd00::/8"],
        });

        Assert.False(policy.DenyPrivateDestinations);
        Assert.Equal(
            ["10.20.0.0/16", "192.168.1.1/32", "fd00::/8"],
            policy.AllowedPrivateDestinations.Select(n => n.ToString()));
    }

    [Theory]
    [InlineData("DefaultAction", "Maybe", "'Maybe' is not a valid action; use 'Allow' or 'Deny'")]
    [InlineData("DefaultAction", "", "is not a valid action")]
    [InlineData("RequireSniMatch", "sometimes", "use 'Require' (or 'true'), 'AllowMissing', or 'Off' (or 'false')")]
    public void TryCompile_InvalidTopLevelValue_ReportsPathAndFix(string key, string value, string expectedMessagePart)
    {
        var options = key == "DefaultAction" ? new PolicyOptions { DefaultAction = value } : new PolicyOptions { RequireSniMatch = value };

        var error = Assert.Single(CompileErrors(options));

        Assert.Equal($"{Section}:{key}", error.Path);
        Assert.Contains(expectedMessagePart, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryCompile_ManyProblems_ReportsEveryOneAtItsPath()
    {
        var options = new PolicyOptions
        {
            DefaultAction = "Permit",
            RequireSniMatch = "yes",
            AllowedPrivateDestinations = ["10.0.0.0/8", "10.10.2.1/24"],
            Rules =
            [
                new RuleOptions { Name = "good", Action = "Allow", Domains = [".example.com"] },
                new RuleOptions
                {
                    Name = "bad-domains",
                    Action = "Allow",
                    Domains = ["example.com", "a.*.com", "*", "ok.example"],
                    Ports = [443, 0, 70000],
                },
                new RuleOptions
                {
                    Name = "GOOD",
                    Action = "Block",
                    Sources = ["10.0.0.0/33"],
                    DestinationCidrs = ["example.com"],
                    Methods = ["GET", "BAD METHOD"],
                    Users = ["alice", ""],
                },
                new RuleOptions(),
                null!,
            ],
        };

        var errors = CompileErrors(options);

        Assert.Equal(
            [
                "Proxy:Policy:DefaultAction",
                "Proxy:Policy:RequireSniMatch",
                "Proxy:Policy:AllowedPrivateDestinations:1",
                "Proxy:Policy:Rules:1:Domains:1",
                "Proxy:Policy:Rules:1:Domains:2",
                "Proxy:Policy:Rules:1:Ports:1",
                "Proxy:Policy:Rules:1:Ports:2",
                "Proxy:Policy:Rules:2:Name",
                "Proxy:Policy:Rules:2:Action",
                "Proxy:Policy:Rules:2:Sources:0",
                "Proxy:Policy:Rules:2:DestinationCidrs:0",
                "Proxy:Policy:Rules:2:Methods:1",
                "Proxy:Policy:Rules:2:Users:1",
                "Proxy:Policy:Rules:3:Name",
                "Proxy:Policy:Rules:3:Action",
                "Proxy:Policy:Rules:4",
            ],
            errors.Select(e => e.Path));
        Assert.Contains(
            errors,
            e => e.Message == "'a.*.com' is not a valid domain pattern: a wildcard may only be the whole first label, as in '*.example.com'");
        Assert.Contains(errors, e => e.Message.Contains("'10.10.2.0/24'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("'GOOD' is already used by rule 0", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("70000 is not a valid port", StringComparison.Ordinal));
    }

    [Fact]
    public void TryCompile_Failure_AppendsToExistingErrorsAndReturnsNoPolicy()
    {
        var errors = new List<ConfigError> { new("Proxy:Listen:0", "earlier problem") };

        var ok = PolicyCompiler.TryCompile(new PolicyOptions { DefaultAction = "x" }, Section, errors, out var policy);

        Assert.False(ok);
        Assert.Null(policy);
        Assert.Equal(2, errors.Count);
        Assert.Equal("Proxy:Policy:DefaultAction: 'x' is not a valid action; use 'Allow' or 'Deny'", errors[1].ToString());
    }

    [Fact]
    public void TryCompile_SuccessWithEarlierErrorsInList_StillSucceeds()
    {
        var errors = new List<ConfigError> { new("Proxy:Listen:0", "earlier problem") };

        Assert.True(PolicyCompiler.TryCompile(new PolicyOptions(), Section, errors, out var policy));
        Assert.NotNull(policy);
        Assert.Single(errors);
    }

    [Theory]
    [InlineData("Sources")]
    [InlineData("Domains")]
    [InlineData("DestinationCidrs")]
    [InlineData("Ports")]
    [InlineData("Methods")]
    [InlineData("Users")]
    public void TryCompile_EmptyConditionList_IsAnError(string key)
    {
        var rule = new RuleOptions { Name = "r", Action = "Allow" };
        switch (key)
        {
            case "Sources": rule.Sources = []; break;
            case "Domains": rule.Domains = []; break;
            case "DestinationCidrs": rule.DestinationCidrs = []; break;
            case "Ports": rule.Ports = []; break;
            case "Methods": rule.Methods = []; break;
            default: rule.Users = []; break;
        }

        var error = Assert.Single(CompileErrors(new PolicyOptions { Rules = [rule] }));

        Assert.Equal($"{Section}:Rules:0:{key}", error.Path);
        Assert.Contains("leave the key out to match anything", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "needs a non-empty Name")]
    [InlineData("", "needs a non-empty Name")]
    [InlineData("   ", "needs a non-empty Name")]
    [InlineData("bad\nname", "control character")]
    public void TryCompile_BadRuleName_IsAnError(string? name, string expectedMessagePart)
    {
        var error = Assert.Single(CompileErrors(new PolicyOptions { Rules = [new RuleOptions { Name = name, Action = "Deny" }] }));

        Assert.Equal($"{Section}:Rules:0:Name", error.Path);
        Assert.Contains(expectedMessagePart, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("CONNECT")]
    [InlineData("M-SEARCH")]
    [InlineData("X!#$%&'*+-.^_`|~1")]
    public void TryCompile_TokenMethod_IsAccepted(string method)
    {
        var policy = CompileOrFail(new PolicyOptions { Rules = [new RuleOptions { Name = "r", Action = "Allow", Methods = [method] }] });

        Assert.Equal(1, policy.RuleCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData("GET ")]
    [InlineData("GE(T")]
    [InlineData("GÉT")]
    [InlineData("GET/1")]
    public void TryCompile_NonTokenMethod_IsAnError(string method)
    {
        var error = Assert.Single(CompileErrors(new PolicyOptions { Rules = [new RuleOptions { Name = "r", Action = "Allow", Methods = [method] }] }));

        Assert.Equal($"{Section}:Rules:0:Methods:0", error.Path);
        Assert.Contains("RFC 9110", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Report", "Report")]
    [InlineData("report", "Report")]
    [InlineData("ENFORCE", "Enforce")]
    public void TryCompile_Mode_IsCaseInsensitive(string text, string expected)
    {
        var policy = CompileOrFail(new PolicyOptions { Mode = text });

        Assert.Equal(Enum.Parse<PolicyMode>(expected), policy.Mode);
    }

    [Fact]
    public void TryCompile_BadModesAndReportSources_EveryProblemWithItsPathAndAFix()
    {
        var errors = CompileErrors(new PolicyOptions
        {
            Mode = "Audit",
            ReportSources = ["10.1.2.3/16"],
            Rules =
            [
                new RuleOptions { Name = "allow-with-mode", Action = "Allow", Mode = "Report" },
                new RuleOptions { Name = "deny-bad-mode", Action = "Deny", Mode = "Alert" },
            ],
        });

        Assert.Collection(
            errors,
            e =>
            {
                Assert.Equal("Proxy:Policy:Mode", e.Path);
                Assert.Contains("'Audit' is not a valid mode; use 'Enforce'", e.Message, StringComparison.Ordinal);
            },
            e => Assert.Equal("Proxy:Policy:ReportSources:0", e.Path),
            e =>
            {
                Assert.Equal("Proxy:Policy:Rules:0:Mode", e.Path);
                Assert.Contains("Mode applies to Deny rules only", e.Message, StringComparison.Ordinal);
                Assert.Contains("Policy.Mode to 'Report'", e.Message, StringComparison.Ordinal);
            },
            e => Assert.Equal("Proxy:Policy:Rules:1:Mode", e.Path));
    }

    [Fact]
    public void TryCompile_EmptyReportSources_IsAmbiguousLikeAnyEmptyList()
    {
        var error = Assert.Single(CompileErrors(new PolicyOptions { ReportSources = [] }));

        Assert.Equal("Proxy:Policy:ReportSources", error.Path);
    }

    [Theory]
    [InlineData(".com", "every name registered under the public suffix 'com' (ICANN section")]
    [InlineData("*.co.uk", "every name registered under the public suffix 'co.uk' (ICANN section")]
    [InlineData(".er", "every name under 'er', where each name one level down ('*.er') is a public suffix (ICANN section")]
    [InlineData(".foo.ck", "the public suffix 'foo.ck' (ICANN section")]
    [InlineData("*.github.io", "every name registered under the public suffix 'github.io', where anyone can get a name (private section")]
    [InlineData(".s3.amazonaws.com", "the public suffix 's3.amazonaws.com', where anyone can get a name (private section")]
    [InlineData(".compute.amazonaws.com", "('*.compute.amazonaws.com') is a public suffix, where anyone can get a name (private section")]
    public void TryCompile_PatternCoveringAPublicSuffix_IsAnErrorSayingWhyAndWhatToWrite(string pattern, string why)
    {
        var error = Assert.Single(CompileErrors(new PolicyOptions
        {
            Rules = [new RuleOptions { Name = "wide", Action = "Allow", Domains = ["www.example.com", pattern] }],
        }));

        Assert.Equal("Proxy:Policy:Rules:0:Domains:1", error.Path);
        Assert.StartsWith($"'{pattern}' would allow ", error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.Contains($"the Public Suffix List of {PublicSuffixList.Embedded.Date}", error.Message, StringComparison.Ordinal);
        Assert.Contains("e.g. '.example.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".amazonaws.com")]
    [InlineData("*.amazonaws.com")]
    [InlineData(".example.co.uk")]
    [InlineData("*.example.github.io")]
    [InlineData(".my-bucket.s3.amazonaws.com")]
    [InlineData(".www.ck")]
    [InlineData(".internal")]
    // An exact name is one host, even when it is a public suffix (S3's path-style endpoint, for one).
    [InlineData("s3.amazonaws.com")]
    [InlineData("github.io")]
    [InlineData("co.uk")]
    public void TryCompile_PatternBelowOrExactlyAtASuffix_IsAccepted(string pattern)
    {
        var policy = CompileOrFail(new PolicyOptions
        {
            Rules = [new RuleOptions { Name = "narrow", Action = "Allow", Domains = [pattern] }],
        });

        Assert.Equal(1, policy.RuleCount);
    }

    [Fact]
    public void TryCompile_AllowPublicSuffixWildcards_AdmitsPrivateSuffixesButNeverIcannOnes()
    {
        var errors = CompileErrors(new PolicyOptions
        {
            Rules =
            [
                new RuleOptions { Name = "pages", Action = "Allow", Domains = ["*.github.io", ".s3.amazonaws.com"], AllowPublicSuffixWildcards = true },
                new RuleOptions { Name = "uk", Action = "Allow", Domains = [".co.uk"], AllowPublicSuffixWildcards = true },
            ],
        });

        var error = Assert.Single(errors);
        Assert.Equal("Proxy:Policy:Rules:1:Domains:0", error.Path);
        Assert.Contains("ICANN section", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryCompile_EmptySectionPath_PathsStartAtKey()
    {
        var errors = new List<ConfigError>();

        Assert.False(PolicyCompiler.TryCompile(new PolicyOptions { Rules = [new RuleOptions { Name = "r" }] }, "", errors, out _));

        Assert.Equal("Rules:0:Action", Assert.Single(errors).Path);
    }

    private static CompiledPolicy CompileOrFail(PolicyOptions options)
    {
        var errors = new List<ConfigError>();
        var ok = PolicyCompiler.TryCompile(options, Section, errors, out var policy);
        Assert.True(ok, string.Join("; ", errors));
        Assert.Empty(errors);
        return policy!;
    }

    private static List<ConfigError> CompileErrors(PolicyOptions options)
    {
        var errors = new List<ConfigError>();
        Assert.False(PolicyCompiler.TryCompile(options, Section, errors, out var policy));
        Assert.Null(policy);
        return errors;
    }
}
