using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.AccessLog;
using EgressLab.ProxyInstance.Admission;
using EgressLab.ProxyInstance.Allowlist;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Allowlist;

public sealed class AllowlistCommandTests : IDisposable
{
    // 2026-12-06T10:00:00Z and two days before it, in the Squid format's Unix seconds.
    private const string Now = "2026-12-06T10:00:00Z";
    private const string Today = "1796551200.000";
    private const string TwoDaysAgo = "1796378400.000";

    private static readonly string[] OriginNames = ["www.example.com", "a.example.org", "b.example.org", "c.example.org"];

    private readonly string _directory = Directory.CreateTempSubdirectory("egress-allowlist-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Squid(string time, string client, string method, string target, string rule = "-", string code = "OK", string extra = "")
    {
        var tag = code == "ERR_ACCESS_DENIED" ? "TCP_DENIED/403" : method == "CONNECT" ? "TCP_TUNNEL/200" : "TCP_MISS/200";
        return $"{time}      5 {client} {tag} 100 {method} {target} - HIER_NONE/- - {rule} {code}{extra}";
    }

    private static (int Code, string Out, string Error) Run(string[] args, string stdin = "")
    {
        Assert.True(AllowlistArguments.TryParse(args, out var parsed, out var error), error);
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var code = AllowlistCommand.Run(parsed, new CommandConsole(new StringReader(stdin), output, errors), new FixedClock(DateTimeOffset.Parse(Now, System.Globalization.CultureInfo.InvariantCulture)));
        return (code, output.ToString(), errors.ToString());
    }

    /// <summary>Loads <paramref name="path"/> as the proxy would and asserts every request in <paramref name="lines"/> is allowed by it.</summary>
    private static void AssertAllowsEveryRequest(string path, IEnumerable<string> lines)
    {
        var loaded = SettingsLoader.Load(new ConfigSource(path, UseEnvironment: false));
        var settings = loaded.Settings;
        Assert.True(settings is not null, "the suggestion does not pass --check-config: " + string.Join("; ", loaded.Errors));
        foreach (var line in lines)
        {
            Assert.True(AccessLogReader.TryParse(line, out var request, out var error), error);
            var decision = AdmissionGate.Decide(settings, request.Client!, request.User, request.Method, request.Target!.Value);
            Assert.True(decision.IsAllowed, $"the suggestion denies {request.Method} {request.Target} from {request.Client}: {decision.Reason}");
        }
    }

    [Theory]
    [InlineData("squid")]
    [InlineData("json")]
    public async Task Suggest_LogOfARealProxyRun_PassesCheckConfigAndAllowsEveryLoggedRequest(string format)
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: ["www.example.com"]);
        var hosts = OriginNames.ToDictionary(h => h, _ => "127.0.0.1");
        var config = ProxyServer.Config(ProxyServer.AllowAll(origin.Port, origin.TlsPort), hosts, p => p["AccessLog"] = new JsonObject { ["Format"] = format });
        string[] lines;
        await using (var proxy = await ProxyServer.StartAsync(config, new TestNetwork()))
        {
            using var client = proxy.CreateClient();
            (await client.GetAsync($"http://www.example.com:{origin.Port}/one", Token)).Dispose();
            (await client.GetAsync($"https://www.example.com:{origin.TlsPort}/secure", Token)).Dispose();
            foreach (var name in new[] { "a", "b", "c" })
            {
                using var content = new StringContent("x");
                (await client.PostAsync($"http://{name}.example.org:{origin.Port}/", content, Token)).Dispose();
            }

            (await client.GetAsync($"http://127.0.0.1:{origin.Port}/by-address", Token)).Dispose();
            client.Dispose();
            lines = await proxy.AccessLogLinesAsync(6);
            File.Copy(proxy.AccessLogPath, Path.Combine(_directory, "access.log"));
        }

        var (code, output, error) = Run(["suggest", "--from", Path.Combine(_directory, "access.log")]);

        Assert.True(code == 0, error);
        var suggestion = WriteFile("suggested.json", output);
        AssertAllowsEveryRequest(suggestion, lines);
        var rules = JsonNode.Parse(output)!["Proxy"]!["Policy"]!["Rules"]!.AsArray();
        Assert.Equal(["seen-127-0-0-1-http", "seen-example-com-connect", "seen-example-com-http", "seen-example-org-http"], rules.Select(r => (string)r!["Name"]!));
        var org = rules.Single(r => (string)r!["Name"]! == "seen-example-org-http")!;
        Assert.Equal(".example.org", (string)org["Domains"]![0]!);
        Assert.Equal("POST", (string)org["Methods"]![0]!);
        Assert.Equal("127.0.0.1/32", (string)rules[0]!["DestinationCidrs"]![0]!);
        Assert.Contains("6 request(s)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Suggest_SyntheticLog_OutputAllowsEveryRequestThatWentThrough()
    {
        string[] lines =
        [
            Squid(Today, "10.10.2.101", "CONNECT", "sts.us-east-1.amazonaws.com:443", "aws"),
            Squid(Today, "10.10.2.102", "CONNECT", "s3.us-east-1.amazonaws.com:443", "aws"),
            Squid(Today, "10.10.3.7", "CONNECT", "ec2.us-east-1.amazonaws.com:443", "aws"),
            Squid(Today, "10.10.2.101", "CONNECT", "git.example.com:22", "git"),
            Squid(Today, "10.10.2.101", "GET", "http://[2001:db8::5]:8080/x", "any"),
            Squid(Today, "2001:db8:1::9", "PUT", "http://upload.example.net/f", "any"),
            """{"time":"2026-12-06T09:00:00Z","client":"10.20.0.1","method":"CONNECT","target":"api.example.org:443","destination":"api.example.org:443","decision":"allow","rule":"r","error":null}""",
        ];
        var log = WriteFile("access.log", string.Join('\n', lines));

        var (code, output, error) = Run(["suggest", "--from", log]);

        Assert.True(code == 0, error);
        AssertAllowsEveryRequest(WriteFile("suggested.json", output), lines);
        // us-east-1.amazonaws.com is a public suffix (customers' names sit under it): its services stay exact names.
        Assert.DoesNotContain("\".us-east-1.amazonaws.com\"", output, StringComparison.Ordinal);
        Assert.Contains("\"sts.us-east-1.amazonaws.com\"", output, StringComparison.Ordinal);
        Assert.Contains("\"2001:db8::5/128\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Suggest_SameLogTwice_PrintsTheSameBytes()
    {
        var log = WriteFile("access.log", string.Join('\n',
            Squid(Today, "10.0.0.1", "CONNECT", "b.example.com:443"), Squid(Today, "10.0.0.2", "CONNECT", "a.example.com:443"), Squid(Today, "10.0.9.1", "GET", "http://203.0.113.5/")));

        Assert.Equal(Run(["suggest", "--from", log]).Out, Run(["suggest", "--from", log]).Out);
    }

    [Fact]
    public void Suggest_DeniedAndWouldDenyLines_LearnsFromWhatWentThroughUnlessAskedForDenied()
    {
        var log = WriteFile("access.log", string.Join('\n',
            Squid(Today, "10.0.0.1", "CONNECT", "reported.example.com:443", "no-rule", "OK", " would-deny"),
            Squid(Today, "10.0.0.1", "CONNECT", "refused.example.net:443", "-", "ERR_ACCESS_DENIED")));

        var learnt = Run(["suggest", "--from", log]);
        var withDenied = Run(["suggest", "--from", log, "--include-denied"]);

        Assert.Equal(0, learnt.Code);
        Assert.Contains("reported.example.com", learnt.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("refused.example.net", learnt.Out, StringComparison.Ordinal);
        Assert.Contains("1 denied by the policy (--include-denied learns from them too)", learnt.Error, StringComparison.Ordinal);
        Assert.Contains("refused.example.net", withDenied.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Suggest_MalformedLines_AreCountedWithTheFirstLineNumberAndTheRestIsUsed()
    {
        var log = WriteFile("access.log", string.Join('\n',
            Squid(Today, "10.0.0.1", "CONNECT", "a.example.com:443"), "", "not a log line", "{broken json", Squid(Today, "10.0.0.1", "CONNECT", "b.example.com:443")));

        var (code, output, error) = Run(["suggest", "--from", log]);

        Assert.Equal(0, code);
        Assert.Contains($"warning: '{log}': 2 malformed line(s) skipped; the first is line 3: a Squid-format line has at least 10", error, StringComparison.Ordinal);
        Assert.Contains("b.example.com", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("only garbage\n")]
    public void Suggest_NothingToLearn_SaysSoAndExits1(string text)
    {
        var log = WriteFile("access.log", text);

        var (code, output, error) = Run(["suggest", "--from", log]);

        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Contains("Nothing to suggest: no request in", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("24h")]
    [InlineData("2026-12-05")]
    public void Suggest_Since_LeavesOutOlderRequests(string since)
    {
        var log = WriteFile("access.log", string.Join('\n', Squid(Today, "10.0.0.1", "CONNECT", "new.example.com:443"), Squid(TwoDaysAgo, "10.0.0.1", "CONNECT", "old.example.com:443")));

        var (code, output, error) = Run(["suggest", "--from", log, "--since", since]);

        Assert.Equal(0, code);
        Assert.Contains("new.example.com", output, StringComparison.Ordinal);
        Assert.DoesNotContain("old.example.com", output, StringComparison.Ordinal);
        Assert.Contains("1 before --since", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Suggest_StandardInputAndSeveralFiles_ReadsThemAll()
    {
        var first = WriteFile("a.log", Squid(Today, "10.0.0.1", "CONNECT", "one.example.com:443"));
        var second = WriteFile("b.log", Squid(Today, "10.0.0.1", "CONNECT", "two.example.net:443"));

        var (code, output, _) = Run(["suggest", "--from", first, "--from", "-", "--from", second], stdin: Squid(Today, "10.0.0.1", "CONNECT", "three.example.org:443"));

        Assert.Equal(0, code);
        Assert.All(["one.example.com", "two.example.net", "three.example.org"], n => Assert.Contains(n, output, StringComparison.Ordinal));
    }

    [Fact]
    public void Suggest_GzipLog_IsDecompressed_AndOneThatIsNotGzip_Exits2()
    {
        var rotated = Path.Combine(_directory, "access.log.1.gz");
        using (var gzip = new System.IO.Compression.GZipStream(File.Create(rotated), System.IO.Compression.CompressionLevel.Fastest))
        using (var writer = new StreamWriter(gzip))
        {
            writer.WriteLine(Squid(Today, "10.0.0.1", "CONNECT", "rotated.example.com:443"));
        }

        var notGzip = WriteFile("plain.gz", Squid(Today, "10.0.0.1", "CONNECT", "plain.example.com:443"));

        var (code, output, _) = Run(["suggest", "--from", rotated]);
        var (badCode, _, badError) = Run(["suggest", "--from", notGzip]);

        Assert.Equal(0, code);
        Assert.Contains("rotated.example.com", output, StringComparison.Ordinal);
        Assert.Equal(2, badCode);
        Assert.Contains("error: reading the access logs failed", badError, StringComparison.Ordinal);
    }

    [Fact]
    public void Suggest_MissingLog_Exits2NamingIt()
    {
        var (code, _, error) = Run(["suggest", "--from", Path.Combine(_directory, "absent.log")]);

        Assert.Equal(2, code);
        Assert.Contains("absent.log' does not exist", error, StringComparison.Ordinal);
    }

    private string Candidate() => WriteFile("candidate.json", """
        { "Proxy": { "Policy": { "DefaultAction": "Deny", "Rules": [
            { "Name": "no-tracker", "Action": "Deny", "Domains": [ "tracker.example.com" ], "Ports": [ 443 ] },
            { "Name": "example", "Action": "Allow", "Domains": [ ".example.com" ], "Ports": [ 443 ], "Methods": [ "CONNECT" ] } ] } } }
        """);

    private string DiffLog() => WriteFile("access.log", string.Join('\n',
        Squid(Today, "10.0.0.1", "CONNECT", "api.example.com:443", "old"),
        Squid(Today, "10.0.0.1", "CONNECT", "tracker.example.com:443", "old"),
        Squid(Today, "10.0.0.2", "CONNECT", "tracker.example.com:443", "old"),
        Squid(Today, "10.0.0.3", "GET", "http://www.example.net/", "-", "OK", " would-deny"),
        Squid(Today, "10.0.0.3", "CONNECT", "www.example.com:443", "-", "ERR_ACCESS_DENIED"),
        Squid(Today, "10.0.0.3", "CONNECT", "blocked.example.org:443", "-", "ERR_ACCESS_DENIED")));

    [Fact]
    public void Diff_CandidateThatDeniesSomeTraffic_ListsItByDestinationWithCountClientsAndRule_Exits1()
    {
        var (code, output, error) = Run(["diff", "--config", Candidate(), "--from", DiffLog()]);

        Assert.Equal(1, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("would deny 3 logged request(s) that went through, to 2 destination(s)", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^\s+2\s+tracker\.example\.com:443\s+CONNECT\s+10\.0\.0\.1,10\.0\.0\.2\s+rule 'no-tracker' \(RuleDeny\)$", lines[2]);
        Assert.Matches(@"^\s+1\s+www\.example\.net:80\s+GET\s+10\.0\.0\.3\s+default action \(DefaultDeny\)$", lines[3]);
        Assert.Equal(4, lines.Length);
        Assert.Contains("6 request(s) judged", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_CandidateInReportMode_IsJudgedAsItWillEnforce()
    {
        var candidate = File.ReadAllText(Candidate()).Replace("\"DefaultAction\": \"Deny\",", "\"DefaultAction\": \"Deny\", \"Mode\": \"Report\",", StringComparison.Ordinal);
        Assert.Contains("\"Mode\": \"Report\"", candidate, StringComparison.Ordinal);

        var (code, output, _) = Run(["diff", "--config", WriteFile("report-candidate.json", candidate), "--from", DiffLog()]);

        Assert.Equal(1, code);
        Assert.Contains("would deny 3 logged request(s) that went through", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_ShowAllowed_AlsoListsWhatWasDeniedAndWouldNowBeAllowed()
    {
        var (_, output, _) = Run(["diff", "--config", Candidate(), "--from", DiffLog(), "--show-allowed"]);

        Assert.Contains("would allow 1 logged request(s) that were denied:", output, StringComparison.Ordinal);
        Assert.Matches(@"\n\s+1\s+www\.example\.com:443\s+CONNECT\s+10\.0\.0\.3\s+rule 'example' \(RuleAllow\)", output);
        Assert.DoesNotContain("blocked.example.org", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_SuggestedConfig_DeniesNothingAndExits0()
    {
        var log = DiffLog();
        var suggestion = WriteFile("suggested.json", Run(["suggest", "--from", log]).Out);

        var (code, output, _) = Run(["diff", "--config", suggestion, "--from", log]);

        Assert.Equal(0, code);
        Assert.Contains("would deny none of the 4 logged request(s) that went through", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_InvalidCandidate_PrintsEveryProblemAndExits2()
    {
        var candidate = WriteFile("bad.json", """{ "Proxy": { "Policy": { "Rules": [ { "Name": "x", "Action": "Allow", "Domains": [ "*" ] } ] } } }""");

        var (code, output, error) = Run(["diff", "--config", candidate, "--from", DiffLog()]);

        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains("$.Proxy.Policy.Rules[0].Domains[0]", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_NoRequestToJudge_Exits2()
    {
        var log = WriteFile("access.log", Squid(Today, "10.0.0.1", "CONNECT", "www.example.com:443", "-", "ERR_AUTH_REQUIRED"));

        var (code, _, error) = Run(["diff", "--config", Candidate(), "--from", log]);

        Assert.Equal(2, code);
        Assert.Contains("can be judged", error, StringComparison.Ordinal);
        Assert.Contains("1 that never reached the policy", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_Since_JudgesOnlyNewerRequests()
    {
        var log = WriteFile("access.log", string.Join('\n',
            Squid(Today, "10.0.0.1", "CONNECT", "api.example.com:443"), Squid(TwoDaysAgo, "10.0.0.1", "CONNECT", "tracker.example.com:443")));

        var (code, _, _) = Run(["diff", "--config", Candidate(), "--from", log, "--since", "1d"]);

        Assert.Equal(0, code);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
