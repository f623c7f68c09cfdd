using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Amazon.Runtime;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Metrics;
using EgressLab.ProxyInstance.Policy;
using EgressLab.ProxyInstance.Tests.Metrics;
using EgressLab.ProxyInstance.Tests.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace EgressLab.ProxyInstance.Tests.Configuration;

/// <summary>The policy from a Systems Manager parameter: settings, start-up, polling and back-off. Nothing here reaches AWS.</summary>
public sealed class PolicySourceTests
{
    private const string Parameter = "/egress/proxy/policy";
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    // Fake static credentials, handed to the one client a test builds; the process environment is left alone.
    private static readonly BasicAWSCredentials FakeCredentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");

    private static SettingsLoadResult LoadJson(string json, PolicyDocument? document = null, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var path = Path.Combine(Path.GetTempPath(), $"egress-config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        try
        {
            return SettingsLoader.Load(new ConfigSource(path, UseEnvironment: false, overrides) { Policy = document }, []);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string WithPolicySource(string policySource) => $$"""{ "Proxy": { "Listen": [ "127.0.0.1:0" ], "PolicySource": {{policySource}} } }""";

    private static JsonObject DenyPort(int port) => new()
    {
        ["DefaultAction"] = "Allow",
        ["AllowedPrivateDestinations"] = new JsonArray("127.0.0.1/32"),
        ["Rules"] = new JsonArray(new JsonObject { ["Name"] = "deny-origin", ["Action"] = "Deny", ["Ports"] = new JsonArray(port) }),
    };

    private static JsonObject AllowPort(int port)
    {
        var policy = ProxyServer.AllowAll(port);
        policy["AllowedPrivateDestinations"] = new JsonArray("127.0.0.1/32");
        return policy;
    }

    private static Func<PolicySourceSettings, IPolicyParameterClient> StandInClients => settings => new SsmPolicyParameterClient(settings, FakeCredentials);

    [Theory]
    [InlineData("""{ "SsmParameter": "/egress/proxy policy" }""", "$.Proxy.PolicySource.SsmParameter", "use only letters, digits")]
    [InlineData("""{ "SsmParameter": "/aws/egress" }""", "$.Proxy.PolicySource.SsmParameter", "may not begin with 'aws' or 'ssm'")]
    [InlineData("""{ "SsmParameter": "egress/proxy" }""", "$.Proxy.PolicySource.SsmParameter", "a hierarchical name starts with /")]
    [InlineData("""{ "SsmParameter": "/egress//proxy" }""", "$.Proxy.PolicySource.SsmParameter", "a hierarchical name starts with /")]
    [InlineData("""{ "SsmParameter": "/egress/proxy/policy", "Region": "EU West 1" }""", "$.Proxy.PolicySource.Region", "is not an AWS region name")]
    [InlineData("""{ "SsmParameter": "/egress/proxy/policy", "PollInterval": "00:00:01" }""", "$.Proxy.PolicySource.PollInterval", "from 00:00:05 to 1.00:00:00")]
    [InlineData("""{ "SsmParameter": "/egress/proxy/policy", "PollInterval": "60" }""", "$.Proxy.PolicySource.PollInterval", "ambiguous as a duration")]
    [InlineData("""{ "SsmParameter": "/egress/proxy/policy", "Region": "eu-west-1", "Endpoint": "ftp://ssm.example.com" }""", "$.Proxy.PolicySource.Endpoint", "is not an endpoint URL")]
    [InlineData("""{ "SsmParameter": "/egress/proxy/policy", "Region": "eu-west-1", "Endpoint": "https://ssm.example.com/v1" }""", "$.Proxy.PolicySource.Endpoint", "scheme and host, no path")]
    [InlineData("""{ "SsmParameter": "/egress/proxy/policy", "Region": "eu-west-1", "Endpoint": "http://ssm.example.com" }""", "$.Proxy.PolicySource.Endpoint", "plain HTTP to a host that is not loopback")]
    [InlineData("""{ "SsmParameter": "/egress/proxy/policy", "Endpoint": "http://127.0.0.1:4566" }""", "$.Proxy.PolicySource.Region", "an Endpoint needs a Region")]
    [InlineData("""{ "Region": "eu-west-1" }""", "$.Proxy.PolicySource.SsmParameter", "PolicySource has settings but no parameter")]
    [InlineData("""{ "SsmParamter": "/egress/proxy/policy" }""", "$.Proxy.PolicySource.SsmParamter", "unknown setting 'SsmParamter'")]
    public void Load_BadPolicySource_RefusedWithPathAndHint(string policySource, string path, string message)
    {
        var loaded = LoadJson(WithPolicySource(policySource));

        Assert.Null(loaded.Settings);
        Assert.Contains(loaded.Errors, e => ConfigPath.ToJsonPath(e.Path) == path && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_PolicySourceAndPolicyInTheFile_RefusedAsDeadText()
    {
        var loaded = LoadJson("""{ "Proxy": { "PolicySource": { "SsmParameter": "/egress/proxy/policy" }, "Policy": { "DefaultAction": "Allow" } } }""");

        Assert.Null(loaded.Settings);
        var error = Assert.Single(loaded.Errors);
        Assert.Equal("$.Proxy.Policy", ConfigPath.ToJsonPath(error.Path));
        Assert.Contains("comes from the SSM parameter '/egress/proxy/policy'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ParameterDocument_ReplacesThePolicyWithDefaultsForTheRest()
    {
        var document = new PolicyDocument(Parameter, 7, """{ "DefaultAction": "Deny", "Rules": [ { "Name": "from-ssm", "Action": "Allow", "Domains": [ "example.com" ] } ] }""");

        var loaded = LoadJson(WithPolicySource("""{ "SsmParameter": "/egress/proxy/policy", "Region": "eu-west-1" }"""), document);

        Assert.Empty(loaded.Errors);
        var settings = Assert.IsType<RuntimeSettings>(loaded.Settings);
        Assert.Equal(new PolicySourceSettings(Parameter, "eu-west-1", TimeSpan.FromMinutes(1), null), settings.PolicySource);
        Assert.Equal(1, settings.Policy.RuleCount);
        Assert.Equal("from-ssm", settings.Policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "example.com", 80)).RuleName);
        Assert.Contains("with the policy from SSM parameter '/egress/proxy/policy' version 7", settings.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EmbeddedDefaultWithPolicySourceOverride_DefaultRulesLeftOut()
    {
        var overrides = new Dictionary<string, string?> { ["Proxy:PolicySource:SsmParameter"] = Parameter };
        var document = new PolicyDocument(Parameter, 1, """{ "Rules": [ { "Name": "only", "Action": "Allow" } ] }""");

        var loaded = SettingsLoader.Load(new ConfigSource(null, UseEnvironment: false, overrides) { Policy = document }, []);

        Assert.Empty(loaded.Errors);
        // The default's two rules would survive an index-by-index merge under a one-rule parameter.
        Assert.Equal(1, loaded.Settings!.Policy.RuleCount);
    }

    [Theory]
    [InlineData("""{ "Rules": [ """, "is not valid JSON")]
    [InlineData("""[ { "Name": "a", "Action": "Allow" } ]""", "must be a JSON object, the Policy section")]
    [InlineData("""{ "Policy": { "Rules": [] } }""", "wraps the policy in \"Policy\"")]
    [InlineData("""{ "Rules": [ { "Name": "bad", "Action": "Deny", "Domains": [ "a.*.com" ] } ] }""", "'a.*.com'")]
    [InlineData("""{ "DefaultAction": "Nope" }""", "'Nope' is not a valid action")]
    [InlineData("""{ "Rulez": [] }""", "unknown setting 'Rulez'")]
    public void Load_InvalidParameterValue_RefusedWithWhatIsWrong(string value, string message)
    {
        var loaded = LoadJson(WithPolicySource("""{ "SsmParameter": "/egress/proxy/policy" }"""), new PolicyDocument(Parameter, 3, value));

        Assert.Null(loaded.Settings);
        Assert.Contains(loaded.Errors, e => e.Path.StartsWith("Proxy:Policy", StringComparison.Ordinal) && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task LoadAsync_ParameterInStandIn_PolicyFromItAndTheRequestSignedAndDecrypting()
    {
        await using var ssm = await SsmStandIn.StartAsync(Parameter);
        ssm.Put(DenyPort(8080).ToJsonString());

        var loaded = await LoadStandInConfigAsync(ssm);

        Assert.Empty(loaded.Errors);
        Assert.Equal(1, loaded.Source.Policy?.Version);
        Assert.Equal("deny-origin", loaded.Settings!.Policy.Decide(new PolicyRequest(IPAddress.Loopback, null, "GET", "www.example.com", 8080)).RuleName);
        var request = Assert.Single(ssm.Requests);
        Assert.Equal("AmazonSSM.GetParameter", request.Target);
        Assert.Equal("application/x-amz-json-1.1", request.ContentType);
        Assert.Equal(Parameter, request.Name);
        Assert.True(request.WithDecryption);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", request.Authorization, StringComparison.Ordinal);
        Assert.Contains("/eu-west-1/ssm/aws4_request", request.Authorization, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ParameterNotFound", "(NotFound): the parameter does not exist. Create it (aws ssm put-parameter --name /egress/proxy/policy")]
    [InlineData("AccessDeniedException", "(AccessDenied): AccessDeniedException: stand-in: AccessDeniedException Grant the proxy's role ssm:GetParameter")]
    public async Task LoadAsync_ParameterUnreadable_RefusesToStartSayingWhyAndHowToFix(string error, string message)
    {
        await using var ssm = await SsmStandIn.StartAsync(Parameter);
        ssm.FailWith(error);

        var loaded = await LoadStandInConfigAsync(ssm);

        Assert.Null(loaded.Settings);
        var problem = Assert.Single(loaded.Errors);
        Assert.Equal("$.Proxy.PolicySource.SsmParameter", ConfigPath.ToJsonPath(problem.Path));
        Assert.StartsWith("cannot read the policy from SSM parameter '/egress/proxy/policy' in eu-west-1 ", problem.Message, StringComparison.Ordinal);
        Assert.Contains(message, problem.Message, StringComparison.Ordinal);
    }

    private static async Task<SettingsLoadResult> LoadStandInConfigAsync(SsmStandIn ssm)
    {
        var path = Path.Combine(Path.GetTempPath(), $"egress-config-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, WithPolicySource($$"""{ "SsmParameter": "{{Parameter}}", "Region": "eu-west-1", "Endpoint": "{{ssm.Endpoint}}" }"""), Token);
        try
        {
            return await SettingsLoader.LoadAsync(new ConfigSource(path, UseEnvironment: false), StandInClients, Token);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The proxy on a policy from the stand-in, with an origin, a clock the test moves, and its logs.</summary>
    private sealed class ParameterProxy : IAsyncDisposable
    {
        private ParameterProxy(OriginServer origin, SsmStandIn ssm, ProxyServer proxy, FakeTimeProvider time, CapturingLoggerProvider logs)
        {
            (Origin, Ssm, Proxy, Time, Logs) = (origin, ssm, proxy, time, logs);
            Client = proxy.CreateClient();
        }

        public OriginServer Origin { get; }
        public SsmStandIn Ssm { get; }
        public ProxyServer Proxy { get; }
        public FakeTimeProvider Time { get; }
        public CapturingLoggerProvider Logs { get; }
        public HttpClient Client { get; }
        public string Url => $"http://www.example.com:{Origin.Port}/";
        public RuntimeSettingsStore Store => Proxy.Services.GetRequiredService<RuntimeSettingsStore>();

        /// <summary>Starts with version 1 of the parameter holding <paramref name="policy"/> for the origin's port.</summary>
        public static async Task<ParameterProxy> StartAsync(Func<int, JsonObject> policy)
        {
            var origin = await OriginServer.StartAsync();
            var ssm = await SsmStandIn.StartAsync(Parameter);
            ssm.Put(policy(origin.Port).ToJsonString());
            var time = new FakeTimeProvider();
            var logs = new CapturingLoggerProvider();
            var config = ProxyServer.Config(new JsonObject(), customize: proxy =>
            {
                proxy.Remove("Policy");
                proxy["PolicySource"] = new JsonObject { ["SsmParameter"] = Parameter, ["Region"] = "eu-west-1", ["Endpoint"] = ssm.Endpoint.ToString() };
            });
            var server = await ProxyServer.StartAsync(config, services =>
            {
                new TestNetwork().Register(services);
                services.AddSingleton<ILoggerProvider>(logs);
                services.AddSingleton<TimeProvider>(time);
                services.AddSingleton<IPolicyParameterClient>(_ =>
                    new SsmPolicyParameterClient(new PolicySourceSettings(Parameter, "eu-west-1", PolicySourceSettings.DefaultPollInterval, ssm.Endpoint), FakeCredentials));
            }, StandInClients);
            return new ParameterProxy(origin, ssm, server, time, logs);
        }

        public async Task<HttpStatusCode> StatusAsync()
        {
            using var response = await Client.GetAsync(Url, Token);
            return response.StatusCode;
        }

        public async Task<PrometheusText> MetricsAsync()
        {
            using var admin = new HttpClient();
            return PrometheusText.Parse(await admin.GetStringAsync($"http://{Proxy.AdminEndPoint}/metrics", Token));
        }

        /// <summary>Moves the proxy's clock on until <paramref name="condition"/> holds (the poller may not have armed its timer yet).</summary>
        public async Task PollUntilAsync(Func<Task<bool>> condition, string what)
        {
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (!await condition())
            {
                Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
                Time.Advance(TimeSpan.FromMinutes(2));
                await Task.Delay(50, Token);
            }
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Proxy.DisposeAsync();
            await Ssm.DisposeAsync();
            await Origin.DisposeAsync();
        }
    }

    [Fact]
    public async Task NewParameterVersion_RequestDeniedBeforeIsAllowedAfter()
    {
        await using var lab = await ParameterProxy.StartAsync(DenyPort);
        Assert.Equal(HttpStatusCode.Forbidden, await lab.StatusAsync());

        lab.Ssm.Put(AllowPort(lab.Origin.Port).ToJsonString());

        await lab.PollUntilAsync(async () => await lab.StatusAsync() == HttpStatusCode.OK, "the new version");
        Assert.Contains(lab.Logs.Messages, m => m.Contains("with the policy from SSM parameter '/egress/proxy/policy' version 2 after a new version of SSM parameter", StringComparison.Ordinal));
        var metrics = await lab.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_config_reloads_total", ("result", "success"), ("source", "ssm")));
        Assert.Equal(1, metrics.Value("proxy_policy_parameter_polls_total", ("result", "changed")));
        Assert.All(lab.Ssm.Requests, r => Assert.True(r.WithDecryption));
    }

    [Fact]
    public async Task InvalidParameterVersion_RefusedLoggedAndCountedOnceAndThePolicyInForceStays()
    {
        await using var lab = await ParameterProxy.StartAsync(AllowPort);

        lab.Ssm.Put("""{ "DefaultAction": "Allow", "Rules": [ { "Name": "bad", "Action": "Deny", "Domains": [ "a.*.com" ] } ] }""");
        await lab.PollUntilAsync(() => Task.FromResult(lab.Ssm.Requests.Count >= 4), "several polls of the bad version");

        var rejection = Assert.Single(lab.Logs.Messages, m => m.Contains("rejected", StringComparison.Ordinal));
        Assert.Contains("SSM parameter '/egress/proxy/policy' version 2", rejection, StringComparison.Ordinal);
        Assert.Contains("the previous policy stays in force", rejection, StringComparison.Ordinal);
        Assert.Contains("$.Proxy.Policy.Rules[0].Domains[0]", rejection, StringComparison.Ordinal);
        var metrics = await lab.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_config_reloads_total", ("result", "failure"), ("source", "ssm")));
        Assert.True(metrics.Value("proxy_policy_parameter_polls_total", ("result", "unchanged")) >= 2);
        Assert.Equal(HttpStatusCode.OK, await lab.StatusAsync());
        Assert.Equal(1, lab.Store.PolicyDocument?.Version);
    }

    [Fact]
    public async Task ConfigFileReload_KeepsThePolicyFromTheParameter()
    {
        await using var lab = await ParameterProxy.StartAsync(AllowPort);

        var config = JsonNode.Parse(await File.ReadAllTextAsync(lab.Proxy.ConfigPath, Token))!.AsObject();
        config["Proxy"]!["Headers"] = new JsonObject { ["AddVia"] = true };
        await lab.Proxy.RewriteConfigAsync(config);

        await lab.PollUntilAsync(() => Task.FromResult(lab.Logs.Messages.Any(m => m.Contains("Configuration reloaded", StringComparison.Ordinal))), "the file reload");
        Assert.True(lab.Store.Current.AddVia);
        Assert.Equal(1, lab.Store.Current.Policy.RuleCount);
        Assert.Equal(HttpStatusCode.OK, await lab.StatusAsync());
        Assert.Equal(1, lab.Store.PolicyDocument?.Version);
    }

    [Theory]
    [InlineData(60, 0, 0.0, 54)]
    [InlineData(60, 0, 0.5, 60)]
    [InlineData(60, 1, 0.0, 60)]
    [InlineData(60, 1, 0.5, 90)]
    [InlineData(60, 3, 0.0, 240)]
    [InlineData(60, 10, 0.0, 450)]
    [InlineData(60, 1000, 0.5, 675)]
    [InlineData(3600, 3, 0.0, 1800)]
    public void NextDelay_JitteredIntervalThenCappedExponentialBackOff(int intervalSeconds, int failures, double random, double expectedSeconds)
    {
        var delay = PolicyPollSchedule.NextDelay(TimeSpan.FromSeconds(intervalSeconds), failures, random);

        Assert.Equal(expectedSeconds, delay.TotalSeconds, 6);
    }

    [Fact]
    public async Task Poll_ReadsFail_BacksOffDoublingThenRecoversAndAppliesTheNewVersion()
    {
        using var harness = new MetricsHarness();
        var metrics = harness.Metrics;
        var logs = new CapturingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        var path = Path.Combine(Path.GetTempPath(), $"egress-config-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, WithPolicySource("""{ "SsmParameter": "/egress/proxy/policy", "PollInterval": "00:01:00" }"""), Token);
        try
        {
            var first = new PolicyDocument(Parameter, 1, """{ "Rules": [ { "Name": "one", "Action": "Allow" } ] }""");
            var loaded = SettingsLoader.Load(new ConfigSource(path, UseEnvironment: false) { Policy = first }, []);
            using var store = new RuntimeSettingsStore(loaded.Settings!, loaded.Source, [], loggers.CreateLogger<RuntimeSettingsStore>(), metrics, TimeProvider.System);
            var client = new ScriptedClient(
                PolicyParameterRead.Failure(PolicyParameterError.Throttled, "ThrottlingException: Rate exceeded"),
                PolicyParameterRead.Failure(PolicyParameterError.Client, "connection refused"),
                PolicyParameterRead.Failure(PolicyParameterError.Throttled, "ThrottlingException: Rate exceeded"),
                PolicyParameterRead.Success(new PolicyDocument(Parameter, 2, """{ "Rules": [ { "Name": "one", "Action": "Allow" }, { "Name": "two", "Action": "Deny" } ] }""")));
            var delays = Channel.CreateUnbounded<(TimeSpan Wait, TaskCompletionSource Done)>();
            using var poller = new PolicyParameterPoller(store, loaded.Settings!.PolicySource!, client, metrics, TimeProvider.System,
                loggers.CreateLogger<PolicyParameterPoller>(), random: () => 0, delay: (wait, token) =>
                {
                    var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    token.Register(() => done.TrySetCanceled(token));
                    delays.Writer.TryWrite((wait, done));
                    return done.Task;
                });

            await poller.StartAsync(Token);
            var waits = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                var (wait, done) = await delays.Reader.ReadAsync(Token).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Token);
                waits.Add(wait.TotalSeconds);
                if (i < 4)
                {
                    done.SetResult();
                }
            }

            await poller.StopAsync(Token);

            // 0.9 × the interval, then 2×, 4× and 8× the interval in equal jitter's lower half, then the interval again.
            Assert.Equal([54, 60, 120, 240, 54], waits);
            Assert.Equal(4, client.Reads);
            Assert.Equal(2, store.PolicyDocument?.Version);
            Assert.Equal(2, store.Current.Policy.RuleCount);
            var text = await harness.ScrapeAsync();
            Assert.Equal(3, text.Value("proxy_policy_parameter_polls_total", ("result", "error")));
            Assert.Equal(1, text.Value("proxy_config_reloads_total", ("result", "success"), ("source", "ssm")));
            Assert.Equal(3, logs.Messages.Count(m => m.Contains("the policy in force stays. Next attempt within", StringComparison.Ordinal)));
            Assert.Contains(logs.Messages, m => m.Contains("(Throttled: ThrottlingException: Rate exceeded), 3 time(s) in a row", StringComparison.Ordinal));
            Assert.Contains(logs.Messages, m => m.Contains("works again after 3 failure(s)", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Answers reads from a script, then repeats the last answer.</summary>
    private sealed class ScriptedClient(params PolicyParameterRead[] answers) : IPolicyParameterClient
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public Task<PolicyParameterRead> ReadAsync(string parameterName, CancellationToken cancellationToken)
        {
            var index = Interlocked.Increment(ref _reads) - 1;
            return Task.FromResult(answers[Math.Min(index, answers.Length - 1)]);
        }
    }
}
