using System.Net;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Policy;

namespace EgressLab.ProxyInstance.Tests.Configuration;

public sealed class ConfigLoaderTests
{
    private static (RuntimeSettings? Settings, List<ConfigError> Errors) Load(string? json, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        string? path = null;
        if (json is not null)
        {
            path = Path.Combine(Path.GetTempPath(), $"egress-config-{Guid.NewGuid():N}.json");
            File.WriteAllText(path, json);
        }

        try
        {
            var loaded = SettingsLoader.Load(new ConfigSource(path, UseEnvironment: false, overrides), []);
            return (loaded.Settings, [.. loaded.Errors]);
        }
        finally
        {
            if (path is not null)
            {
                File.Delete(path);
            }
        }
    }

    [Fact]
    public void Load_EmbeddedDefaults_DenyByDefaultPrivateClientsOnlyOn3128()
    {
        var (settings, errors) = Load(null);

        Assert.Empty(errors);
        Assert.NotNull(settings);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 3128), Assert.Single(settings.Listen));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9128), settings.AdminListen);
        Assert.True(settings.Policy.DenyPrivateDestinations);
        Assert.Equal(SniMode.Require, settings.Policy.SniMode);
        Assert.Equal(AccessLogFormat.Squid, settings.AccessLogFormat);

        var fromPrivate = settings.Policy.Decide(new PolicyRequest(IPAddress.Parse("10.10.2.101"), null, "CONNECT", "sts.us-east-1.amazonaws.com", 443));
        var fromLoopback = settings.Policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "example.com", 80));
        var fromPublic = settings.Policy.Decide(new PolicyRequest(IPAddress.Parse("198.51.100.7"), null, "CONNECT", "sts.us-east-1.amazonaws.com", 443));
        var unlisted = settings.Policy.Decide(new PolicyRequest(IPAddress.Parse("10.10.2.101"), null, "CONNECT", "www.example.net", 443));
        Assert.True(fromPrivate.IsAllowed);
        Assert.Equal("aws-apis", fromPrivate.RuleName);
        Assert.True(fromLoopback.IsAllowed);
        Assert.False(fromPublic.IsAllowed);
        Assert.False(unlisted.IsAllowed);
    }

    [Fact]
    public void Load_ManyProblems_ReportsEveryOneWithItsPath()
    {
        var (settings, errors) = Load("""
            { "Proxy": {
                "Listen": [ "0.0.0.0" ],
                "AdminListen": "nonsense",
                "Polcy": {},
                "AccessLog": { "Format": "apache" },
                "Timeouts": { "Connect": "-00:00:01", "Dns": "soon" },
                "Policy": {
                  "DefaultAction": "Maybe",
                  "Rules": [
                    { "Name": "r1", "Action": "Allow", "Domains": [ "a.*.com" ], "Ports": [ 70000 ] },
                    { "Name": "r1", "Action": "Allow", "Sources": [ "10.10.2.1/24" ] }
                  ] } } }
            """);

        Assert.Null(settings);
        var paths = errors.Select(e => e.Path).ToList();
        Assert.Contains("Proxy:Polcy", paths);
        Assert.Contains("Proxy:Timeouts:Dns", paths);
        // Shape errors stop before semantic checks, so fix those and load again.
        (settings, errors) = Load("""
            { "Proxy": {
                "Listen": [ "0.0.0.0" ],
                "AdminListen": "nonsense",
                "AccessLog": { "Format": "apache" },
                "Timeouts": { "Connect": "-00:00:01" },
                "Policy": {
                  "DefaultAction": "Maybe",
                  "Rules": [
                    { "Name": "r1", "Action": "Allow", "Domains": [ "a.*.com" ], "Ports": [ 70000 ] },
                    { "Name": "r1", "Action": "Allow", "Sources": [ "10.10.2.1/24" ] }
                  ] } } }
            """);
        Assert.Null(settings);
        paths = errors.Select(e => e.Path).ToList();
        Assert.Contains("Proxy:Listen:0", paths);
        Assert.Contains("Proxy:AdminListen", paths);
        Assert.Contains("Proxy:AccessLog:Format", paths);
        Assert.Contains("Proxy:Timeouts:Connect", paths);
        Assert.Contains("Proxy:Policy:DefaultAction", paths);
        Assert.Contains(paths, p => p.StartsWith("Proxy:Policy:Rules:0:Domains:0", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.StartsWith("Proxy:Policy:Rules:0:Ports:0", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.StartsWith("Proxy:Policy:Rules:1:Name", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.StartsWith("Proxy:Policy:Rules:1:Sources:0", StringComparison.Ordinal));
        Assert.All(errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Message)));
    }

    [Fact]
    public void Load_UnknownSetting_NamesItAndTheKnownOnes()
    {
        var (_, errors) = Load("""{ "Proxy": { "Policy": { "Rules": [ { "Name": "x", "Action": "Allow", "Domain": [ "example.com" ] } ] } } }""");

        var error = Assert.Single(errors);
        Assert.Equal("Proxy:Policy:Rules:0:Domain", error.Path);
        Assert.Contains("Domains", error.Message, StringComparison.Ordinal);
        Assert.Equal("$.Proxy.Policy.Rules[0].Domain", ConfigPath.ToJsonPath(error.Path));
    }

    [Fact]
    public void Load_WrongValueType_IsReported()
    {
        var (_, errors) = Load("""{ "Proxy": { "Policy": { "DenyPrivateDestinations": "sometimes", "Rules": [ { "Name": "x", "Action": "Allow", "Ports": [ "https" ] } ] } } }""");

        Assert.Contains(errors, e => e.Path == "Proxy:Policy:DenyPrivateDestinations");
        Assert.Contains(errors, e => e.Path == "Proxy:Policy:Rules:0:Ports:0" && e.Message.Contains("whole number", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_InvalidJson_SaysWhereTheSyntaxBreaks()
    {
        var (settings, errors) = Load("{ \"Proxy\": { \"Listen\": [ \"0.0.0.0:3128\" \n ] ,, } }");

        Assert.Null(settings);
        var error = Assert.Single(errors);
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Sources")]
    [InlineData("Domains")]
    [InlineData("Ports")]
    [InlineData("Methods")]
    [InlineData("Users")]
    [InlineData("DestinationCidrs")]
    public void Load_EmptyConditionList_IsAnErrorNotAWildcard(string condition)
    {
        var (settings, errors) = Load($$"""{ "Proxy": { "Policy": { "Rules": [ { "Name": "r", "Action": "Allow", "{{condition}}": [] } ] } } }""");

        Assert.Null(settings);
        Assert.Contains(errors, e => e.Path.StartsWith($"Proxy:Policy:Rules:0:{condition}", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_UsersConditionWithoutAuthentication_IsAnError()
    {
        var (_, errors) = Load("""{ "Proxy": { "Policy": { "Rules": [ { "Name": "r", "Action": "Allow", "Users": [ "alice" ] } ] } } }""");

        var error = Assert.Single(errors);
        Assert.Equal("Proxy:Policy:Rules:0:Users", error.Path);
        Assert.Contains("authentication is off", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("30")]
    public void Load_DurationWithoutColons_IsRejectedAsAmbiguous(string value)
    {
        var (_, errors) = Load($$"""{ "Proxy": { "Timeouts": { "Connect": "{{value}}" } } }""");

        var error = Assert.Single(errors);
        Assert.Equal("Proxy:Timeouts:Connect", error.Path);
        Assert.Contains("hh:mm:ss", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ClientHello", "60.00:00:00")]
    [InlineData("TunnelIdle", "30.00:00:01")]
    [InlineData("Drain", "10675199.02:48:05.4775807")]
    public void Load_TimeoutBeyondTimerRange_IsRejected(string setting, string value)
    {
        var (_, errors) = Load($$"""{ "Proxy": { "Timeouts": { "{{setting}}": "{{value}}" } } }""");

        var error = Assert.Single(errors);
        Assert.Equal($"Proxy:Timeouts:{setting}", error.Path);
        Assert.Contains("at most \"30.00:00:00\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TimeoutOfThirtyDays_IsAccepted()
    {
        var (settings, errors) = Load("""{ "Proxy": { "Timeouts": { "TunnelIdle": "30.00:00:00" } } }""");

        Assert.Empty(errors);
        Assert.Equal(TimeSpan.FromDays(30), settings!.TunnelIdleTimeout);
    }

    [Fact]
    public void Load_ClientLimits_AreCompiled()
    {
        var (settings, errors) = Load("""{ "Proxy": { "Limits": { "MaxTunnelsPerClient": 20, "RequestsPerSecondPerClient": 2.5 } } }""");

        Assert.Empty(errors);
        Assert.Equal(20, settings!.MaxTunnelsPerClient);
        Assert.Equal(new EgressLab.ProxyInstance.Limits.RequestRate(2.5, 3), settings.RequestRatePerClient);
    }

    [Fact]
    public void Load_NoClientLimits_MeansNone()
    {
        var (settings, errors) = Load("""{ "Proxy": { "Listen": [ "127.0.0.1:3128" ] } }""");

        Assert.Empty(errors);
        Assert.Null(settings!.MaxTunnelsPerClient);
        Assert.Null(settings.RequestRatePerClient);
    }

    [Theory]
    [InlineData("""{ "MaxTunnelsPerClient": 0 }""", "Proxy:Limits:MaxTunnelsPerClient", "at least 1")]
    [InlineData("""{ "RequestsPerSecondPerClient": 0 }""", "Proxy:Limits:RequestsPerSecondPerClient", "above 0")]
    [InlineData("""{ "RequestsPerSecondPerClient": -3 }""", "Proxy:Limits:RequestsPerSecondPerClient", "above 0")]
    [InlineData("""{ "RequestsPerSecondPerClient": 5, "RequestBurstPerClient": 0 }""", "Proxy:Limits:RequestBurstPerClient", "at least 1")]
    [InlineData("""{ "RequestBurstPerClient": 10 }""", "Proxy:Limits:RequestBurstPerClient", "needs a rate")]
    [InlineData("""{ "MaxConnections": 0 }""", "Proxy:Limits:MaxConnections", "at least 1")]
    public void Load_BadLimit_NamesItAndSaysWhatIsAllowed(string limits, string path, string hint)
    {
        var (settings, errors) = Load($$"""{ "Proxy": { "Limits": {{limits}} } }""");

        Assert.Null(settings);
        var error = Assert.Single(errors);
        Assert.Equal(path, error.Path);
        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FileThatFailsToRead_IsAnErrorNotAnException()
    {
        // Reading /proc/self/mem from offset 0 fails with EIO: a file that exists but cannot be read.
        var source = new ConfigSource("/proc/self/mem", UseEnvironment: false);

        var loaded = ConfigLoader.Load(source);

        Assert.Null(loaded.Options);
        Assert.Contains(loaded.Errors, e => e.Message.Contains("cannot be read", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_RequestBodyTimeout_DefaultsToOneMinuteAndTakesTheValueSet()
    {
        var (defaults, errors) = Load("""{ "Proxy": { "Timeouts": { "Connect": "00:00:10" } } }""");
        var (set, setErrors) = Load("""{ "Proxy": { "Timeouts": { "RequestBody": "00:00:05" } } }""");

        Assert.Empty(errors);
        Assert.Empty(setErrors);
        Assert.Equal(TimeSpan.FromMinutes(1), defaults!.RequestBodyTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), set!.RequestBodyTimeout);
    }

    [Theory]
    [InlineData("00:00:00", "must be longer than zero, for example \"00:01:00\"")]
    [InlineData("-00:00:01", "must be longer than zero, for example \"00:01:00\"")]
    [InlineData("5", "hh:mm:ss")]
    [InlineData("a minute", "hh:mm:ss")]
    public void Load_RequestBodyTimeoutInvalid_IsOneErrorSayingHowToFixIt(string value, string hint)
    {
        var (settings, errors) = Load($$"""{ "Proxy": { "Timeouts": { "RequestBody": "{{value}}" } } }""");

        Assert.Null(settings);
        var error = Assert.Single(errors);
        Assert.Equal("Proxy:Timeouts:RequestBody", error.Path);
        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RequestBodyTimeoutChanged_TakesEffectOnReload()
    {
        var (before, _) = Load("""{ "Proxy": { "Timeouts": { "RequestBody": "00:00:30" } } }""");
        var (after, _) = Load("""{ "Proxy": { "Timeouts": { "RequestBody": "00:02:00" } } }""");

        Assert.Empty(before!.RestartOnlyDifferences(after!));
    }

    [Fact]
    public void Load_InlineSocketCompletions_IsOnByDefaultAndCanBeTurnedOff()
    {
        var (defaults, errors) = Load("""{ "Proxy": { "Headers": { "AddVia": false } } }""");
        var (off, offErrors) = Load("""{ "Proxy": { "InlineSocketCompletions": false } }""");

        Assert.Empty(errors);
        Assert.Empty(offErrors);
        Assert.True(defaults!.InlineSocketCompletions);
        Assert.False(off!.InlineSocketCompletions);
        Assert.Equal(["InlineSocketCompletions"], defaults.RestartOnlyDifferences(off));
    }

    [Fact]
    public void Load_InlineSocketCompletionsNotABoolean_IsAnError()
    {
        var (settings, errors) = Load("""{ "Proxy": { "InlineSocketCompletions": "sometimes" } }""");

        Assert.Null(settings);
        var error = Assert.Single(errors);
        Assert.Equal("Proxy:InlineSocketCompletions", error.Path);
    }

    [Theory]
    [InlineData("\"Auto\"", "Auto")]
    [InlineData("\"on\"", "On")]
    [InlineData("true", "On")]
    [InlineData("\"Off\"", "Off")]
    [InlineData("false", "Off")]
    public void Load_SpliceTunnels_ReadsEachSpellingAndTakesEffectOnReload(string json, string expected)
    {
        var (defaults, errors) = Load("""{ "Proxy": { "Headers": { "AddVia": false } } }""");
        var (set, setErrors) = Load($$"""{ "Proxy": { "SpliceTunnels": {{json}} } }""");

        Assert.Empty(errors);
        Assert.Empty(setErrors);
        Assert.Equal(SpliceMode.Auto, defaults!.SpliceTunnels);
        Assert.Equal(Enum.Parse<SpliceMode>(expected), set!.SpliceTunnels);
        Assert.Empty(defaults.RestartOnlyDifferences(set));
    }

    [Fact]
    public void Load_SpliceTunnelsUnknown_IsAnErrorThatNamesTheValues()
    {
        var (settings, errors) = Load("""{ "Proxy": { "SpliceTunnels": "sometimes" } }""");

        Assert.Null(settings);
        var error = Assert.Single(errors);
        Assert.Equal("Proxy:SpliceTunnels", error.Path);
        Assert.Equal("'sometimes' is not a valid value; use 'Auto' (splice for clients on other hosts), 'On' (or 'true') or 'Off' (or 'false').", error.Message);
    }

    [Fact]
    public void Load_SocketThreads_IsLeftToTheRuntimeByDefaultAndRestartOnly()
    {
        var (defaults, errors) = Load("""{ "Proxy": { "Headers": { "AddVia": false } } }""");
        var (one, oneErrors) = Load("""{ "Proxy": { "SocketThreads": 1 } }""");

        Assert.Empty(errors);
        Assert.Empty(oneErrors);
        Assert.Null(defaults!.SocketThreads);
        Assert.Equal(1, one!.SocketThreads);
        Assert.Equal(["SocketThreads"], defaults.RestartOnlyDifferences(one));
    }

    [Theory]
    [InlineData("0", "0 is out of range: use 1 to 256 threads, or leave it out for one per processor.")]
    [InlineData("-2", "-2 is out of range: use 1 to 256 threads, or leave it out for one per processor.")]
    [InlineData("257", "257 is out of range: use 1 to 256 threads, or leave it out for one per processor.")]
    [InlineData("\"two\"", null)]
    public void Load_SocketThreadsNotACount_IsAnError(string value, string? message)
    {
        var (settings, errors) = Load($$"""{ "Proxy": { "SocketThreads": {{value}} } }""");

        Assert.Null(settings);
        var error = Assert.Single(errors);
        Assert.Equal("Proxy:SocketThreads", error.Path);
        if (message is not null)
        {
            Assert.Equal(message, error.Message);
        }
    }

    [Fact]
    public void Load_MissingFile_SaysSo()
    {
        var source = new ConfigSource("/nonexistent/proxy.json", UseEnvironment: false);

        var loaded = ConfigLoader.Load(source);

        var error = Assert.Single(loaded.Errors);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FileReplacesDefaults_RulesAreNotMergedByIndex()
    {
        var (settings, errors) = Load("""{ "Proxy": { "Policy": { "Rules": [ { "Name": "only", "Action": "Allow", "Domains": [ "example.net" ] } ] } } }""");

        Assert.Empty(errors);
        Assert.Equal(1, settings!.Policy.RuleCount);
    }

    [Fact]
    public void Load_Overrides_ReplaceFileValues()
    {
        var (settings, errors) = Load(
            """{ "Proxy": { "Listen": [ "127.0.0.1:3128" ], "Policy": { "DefaultAction": "Deny" } } }""",
            new Dictionary<string, string?> { ["Proxy:Listen:0"] = "127.0.0.1:4128", ["Proxy:Policy:DefaultAction"] = "Allow" });

        Assert.Empty(errors);
        Assert.Equal(4128, Assert.Single(settings!.Listen).Port);
        Assert.True(settings.Policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "example.net", 80)).IsAllowed);
    }

    [Fact]
    public void Load_BasicAuthWithoutUsersFile_SaysHowToMakeOne()
    {
        var (_, errors) = Load("""{ "Proxy": { "Authentication": { "Scheme": "Basic" } } }""");

        var error = Assert.Single(errors);
        Assert.Equal("Proxy:Authentication:UsersFile", error.Path);
        Assert.Contains("openssl passwd -6", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Proxy:Policy:Rules:0:Domains:1", "$.Proxy.Policy.Rules[0].Domains[1]")]
    [InlineData("Proxy:Dns:Hosts:www.example.com", "$.Proxy.Dns.Hosts['www.example.com']")]
    [InlineData("$", "$")]
    public void ToJsonPath_ConfigPath_RendersJsonPath(string path, string expected) =>
        Assert.Equal(expected, ConfigPath.ToJsonPath(path));
}
