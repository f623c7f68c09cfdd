using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using EgressLab.ProxyInstance.Tests.Forwarding;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Hosting;

public sealed partial class ProgramTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    private static string WriteConfig(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), $"egress-program-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public async Task CheckConfig_ValidFile_PrintsSummaryAndExits0()
    {
        var path = WriteConfig("""{ "Proxy": { "Listen": [ "127.0.0.1:3128" ], "Policy": { "Rules": [ { "Name": "aws", "Action": "Allow", "Domains": [ ".amazonaws.com" ] } ] } } }""");
        await using var process = ProxyProcess.Start(["--check-config", path]);

        Assert.Equal(0, await process.WaitForExitAsync(ExitTimeout));
        Assert.Contains("is valid: 1 rule(s)", process.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConfig_InvalidFile_PrintsEveryProblemWithJsonPathAndExits1()
    {
        var path = WriteConfig("""
            { "Proxy": { "Policy": { "Rules": [
                { "Name": "bad-domain", "Action": "Allow", "Domains": [ "example.com", "*" ] },
                { "Name": "bad-port", "Action": "Allow", "Ports": [ 0 ] } ] } } }
            """);
        await using var process = ProxyProcess.Start(["--check-config", path]);

        Assert.Equal(1, await process.WaitForExitAsync(ExitTimeout));
        Assert.Contains("$.Proxy.Policy.Rules[0].Domains[1]", process.Stderr, StringComparison.Ordinal);
        Assert.Contains("$.Proxy.Policy.Rules[1].Ports[0]", process.Stderr, StringComparison.Ordinal);
        Assert.Contains("2 problem(s)", process.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConfig_WildcardOverAPublicSuffix_SaysWhyAndWhatToWriteInstead()
    {
        var path = WriteConfig("""
            { "Proxy": { "Policy": { "Rules": [
                { "Name": "uk", "Action": "Allow", "Domains": [ ".co.uk", ".example.co.uk", ".amazonaws.com" ] } ] } } }
            """);
        await using var process = ProxyProcess.Start(["--check-config", path]);

        Assert.Equal(1, await process.WaitForExitAsync(ExitTimeout));
        Assert.Contains("1 problem(s)", process.Stderr, StringComparison.Ordinal);
        Assert.Contains(
            "$.Proxy.Policy.Rules[0].Domains[0]: '.co.uk' would allow every name registered under the public suffix 'co.uk'",
            process.Stderr,
            StringComparison.Ordinal);
        Assert.Contains("list the registrable domains you mean, e.g. '.example.co.uk'", process.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_InvalidConfig_RefusesToStart()
    {
        var path = WriteConfig("""{ "Proxy": { "Listen": [ "127.0.0.1:3128" ], "Policy": { "DefaultAction": "Perhaps" } } }""");
        await using var process = ProxyProcess.Start(["--config", path]);

        Assert.Equal(1, await process.WaitForExitAsync(ExitTimeout));
        Assert.Contains("refuses to start", process.Stderr, StringComparison.Ordinal);
        Assert.Contains("$.Proxy.Policy.DefaultAction", process.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void RuntimeConfig_ServerGcWithoutDynamicAdaptation()
    {
        // What docs/configuration.md promises: server GC, DATAS off. The runtime reads both from this file at start-up.
        var properties = RuntimeConfigProperties();

        Assert.True(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.Equal(0, properties.GetProperty("System.GC.DynamicAdaptationMode").GetInt32());
    }

    [Fact]
    public void RuntimeConfig_ThreadPoolWorkersDoNotSpin()
    {
        // What docs/configuration.md promises ("Thread-pool spinning"): an idle worker sleeps at once. The runtime reads
        // the limit from this file when the pool starts; DOTNET_ThreadPool_UnfairSemaphoreSpinLimit overrides it.
        var properties = RuntimeConfigProperties();

        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }

    [Theory]
    [InlineData("Listen")]
    [InlineData("AdminListen")]
    public async Task Run_AddressInUse_SaysWhichAndExits1(string setting)
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((IPEndPoint)holder.LocalEndpoint).Port;
        var free = PlainHttpTests.UnusedPort();
        var (proxyPort, adminPort) = setting == "Listen" ? (taken, free) : (free, taken);
        var path = WriteConfig($$"""{ "Proxy": { "Listen": [ "127.0.0.1:{{proxyPort}}" ], "AdminListen": "127.0.0.1:{{adminPort}}" } }""");
        await using var process = ProxyProcess.Start(["--config", path]);

        Assert.Equal(1, await process.WaitForExitAsync(ExitTimeout));
        Assert.Contains($"error: Failed to bind to address http://127.0.0.1:{taken}: address already in use. Stop what holds it", process.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", process.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--config")]
    public async Task Run_BadArguments_Exits2WithUsage(string argument)
    {
        await using var process = ProxyProcess.Start([argument]);

        Assert.Equal(2, await process.WaitForExitAsync(ExitTimeout));
        Assert.Contains("Usage:", process.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowlistSuggest_OutputFile_PassesCheckConfig()
    {
        var log = WriteConfig(string.Join('\n',
            "1795257514.728   5847 10.10.2.101 TCP_TUNNEL/200 48213 CONNECT sts.us-east-1.amazonaws.com:443 - HIER_DIRECT/198.51.100.20 - aws-apis OK",
            "1795257471.714      9 10.10.2.102 TCP_MISS/200 119 GET http://www.example.com/ - HIER_DIRECT/198.51.100.7 text/plain - OK"));
        await using var suggest = ProxyProcess.Start(["allowlist", "suggest", "--from", log]);
        Assert.Equal(0, await suggest.WaitForExitAsync(ExitTimeout));
        var suggested = WriteConfig(suggest.Stdout);

        await using var check = ProxyProcess.Start(["--check-config", suggested]);

        Assert.Equal(0, await check.WaitForExitAsync(ExitTimeout));
        Assert.Contains("is valid: 2 rule(s)", check.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("allowlist")]
    [InlineData("allowlist suggest")]
    [InlineData("allowlist diff --from x.log")]
    public async Task Allowlist_BadArguments_Exits2WithAllowlistUsage(string arguments)
    {
        await using var process = ProxyProcess.Start(arguments.Split(' '));

        Assert.Equal(2, await process.WaitForExitAsync(ExitTimeout));
        Assert.Contains("error: ", process.Stderr, StringComparison.Ordinal);
        Assert.Contains("Usage: ProxyInstance allowlist suggest", process.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_DefaultLogging_WritesOperationalLinesToStderrInOneFormat()
    {
        var proxyPort = PlainHttpTests.UnusedPort();
        await using var process = ProxyProcess.Start([], new Dictionary<string, string>
        {
            ["Proxy__Listen__0"] = $"127.0.0.1:{proxyPort}",
            ["Proxy__AdminListen"] = $"127.0.0.1:{PlainHttpTests.UnusedPort()}",
        });

        await process.WaitForLogAsync("Application started.", ExitTimeout);

        var lines = process.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line => Assert.Matches(OperationalLine(), line));
        Assert.Contains(lines, line => line.EndsWith(" [INF] Microsoft.Hosting.Lifetime: Application started. Press Ctrl+C to shut down.", StringComparison.Ordinal));
        Assert.DoesNotContain("Application started.", process.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_FromAWorkingDirectoryWithATree_WatchesNoneOfIt()
    {
        // Started by systemd without WorkingDirectory the proxy runs in "/". The host's default configuration sources
        // watched the whole tree under the working directory: thousands of inotify watches there, and a wake of the
        // watcher thread for every file written anywhere under it, the proxy's own access log included.
        Assert.SkipUnless(OperatingSystem.IsLinux(), "inotify watches are counted in /proc/<pid>/fdinfo");
        var root = Directory.CreateTempSubdirectory("egress-workdir-");
        try
        {
            for (var i = 0; i < 30; i++)
            {
                Directory.CreateDirectory(Path.Combine(root.FullName, $"d{i}", "sub"));
            }

            var proxyPort = PlainHttpTests.UnusedPort();
            await using var process = ProxyProcess.Start([], new Dictionary<string, string>
            {
                ["Proxy__Listen__0"] = $"127.0.0.1:{proxyPort}",
                ["Proxy__AdminListen"] = $"127.0.0.1:{PlainHttpTests.UnusedPort()}",
            }, root.FullName);
            await process.WaitForLogAsync("Application started.", ExitTimeout);

            // The embedded configuration has no file to watch; 60 directories were there to be watched.
            Assert.InRange(InotifyWatches(process.Id), 0, 2);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    /// <summary>The <c>configProperties</c> of the proxy's runtime configuration, as the build wrote it next to the proxy.</summary>
    private static System.Text.Json.JsonElement RuntimeConfigProperties()
    {
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "ProxyInstance.runtimeconfig.json")));
        return config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }

    /// <summary>The inotify watches the process holds, over all its inotify descriptors.</summary>
    private static int InotifyWatches(int pid) =>
        Directory.EnumerateFiles($"/proc/{pid}/fdinfo")
            .Sum(fdinfo => File.ReadLines(fdinfo).Count(line => line.StartsWith("inotify wd:", StringComparison.Ordinal)));

    [Fact]
    public async Task Run_SerilogSection_ReplacesTheStderrSinkWithItsFileSink()
    {
        var logFile = Path.Combine(Path.GetTempPath(), $"egress-serilog-{Guid.NewGuid():N}.log");
        var proxyPort = PlainHttpTests.UnusedPort();
        try
        {
            await using (var process = ProxyProcess.Start([], new Dictionary<string, string>
            {
                ["Proxy__Listen__0"] = $"127.0.0.1:{proxyPort}",
                ["Proxy__AdminListen"] = $"127.0.0.1:{PlainHttpTests.UnusedPort()}",
                ["Serilog__WriteTo__0__Name"] = "File",
                ["Serilog__WriteTo__0__Args__path"] = logFile,
                ["Serilog__WriteTo__0__Args__outputTemplate"] = "[{Level:u3}] {SourceContext}: {Message:lj}{NewLine}",
            }))
            {
                await WaitForPortAsync(proxyPort, process);
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (!(File.Exists(logFile) && (await ReadSharedAsync(logFile)).Contains("Application started.", StringComparison.Ordinal)))
                {
                    Assert.True(DateTime.UtcNow < deadline, $"no startup line in {logFile}; stderr: {process.Stderr}");
                    await Task.Delay(50, TestContext.Current.CancellationToken);
                }

                Assert.DoesNotContain("Application started.", process.Stderr, StringComparison.Ordinal);
            }

            Assert.Contains("[INF] Microsoft.Hosting.Lifetime: Application started. Press Ctrl+C to shut down.\n", await ReadSharedAsync(logFile), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(logFile);
        }
    }

    /// <summary>Reads a file another process still has open for writing.</summary>
    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>The default operational log line: local time with offset, level, category, message.</summary>
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2} \[(VRB|DBG|INF|WRN|ERR|FTL)\] [A-Za-z0-9_.]+: \S.*$")]
    private static partial Regex OperationalLine();

    [Fact]
    public async Task Run_EmbeddedDefaultsWithEnvironmentOverrides_ServesAllowedAndDeniesOthers()
    {
        await using var origin = await OriginServer.StartAsync();
        var adminPort = PlainHttpTests.UnusedPort();
        var proxyPort = PlainHttpTests.UnusedPort();
        var environment = new Dictionary<string, string>
        {
            ["Proxy__Listen__0"] = $"127.0.0.1:{proxyPort}",
            ["Proxy__AdminListen"] = $"127.0.0.1:{adminPort}",
            ["Proxy__Policy__AllowedPrivateDestinations__0"] = "127.0.0.1/32",
            ["Proxy__Dns__Hosts__example.com__0"] = "127.0.0.1",
            ["Proxy__Policy__Rules__1__Ports__0"] = origin.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        await using var process = ProxyProcess.Start([], environment);
        await WaitForPortAsync(proxyPort, process);
        using var client = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy($"http://127.0.0.1:{proxyPort}"), UseProxy = true });
        var token = TestContext.Current.CancellationToken;

        using var allowed = await client.GetAsync($"http://example.com:{origin.Port}/from-defaults", token);
        using var denied = await client.GetAsync("http://denied.example.net/", token);
        using var health = await new HttpClient().GetAsync($"http://127.0.0.1:{adminPort}/healthz", token);

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("GET /from-defaults from origin", await allowed.Content.ReadAsStringAsync(token));
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("ERR_ACCESS_DENIED", denied.Headers.GetValues("X-Proxy-Error").Single());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        // The default access log goes to stdout in Squid format.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!process.Stdout.Contains("TCP_DENIED/403", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, token);
        }

        Assert.Contains("TCP_MISS/200", process.Stdout, StringComparison.Ordinal);
        Assert.Contains("TCP_DENIED/403", process.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_UnderLoad_FinishesInFlightRefusesNewAndExitsWithinDrain()
    {
        await using var origin = await OriginServer.StartAsync();
        var proxyPort = PlainHttpTests.UnusedPort();
        var path = WriteConfig($$"""
            { "Proxy": { "Listen": [ "127.0.0.1:{{proxyPort}}" ], "AdminListen": "",
              "Timeouts": { "Drain": "00:00:10" },
              "Dns": { "Hosts": { "www.example.com": [ "127.0.0.1" ] } },
              "Policy": { "AllowedPrivateDestinations": [ "127.0.0.1/32" ],
                "Rules": [ { "Name": "all", "Action": "Allow", "Ports": [ {{origin.Port}} ] } ] } } }
            """);
        await using var process = ProxyProcess.Start(["--config", path]);
        await WaitForPortAsync(proxyPort, process);
        using var client = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy($"http://127.0.0.1:{proxyPort}"), UseProxy = true });
        var token = TestContext.Current.CancellationToken;

        var inFlight = client.GetAsync($"http://www.example.com:{origin.Port}/slow/2000", token);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (origin.RequestTargets.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, token);
        }

        var signalled = DateTime.UtcNow;
        process.SendSignal("TERM");
        await Task.Delay(500, token);

        using var refused = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => refused.ConnectAsync(IPAddress.Loopback, proxyPort, token).AsTask());
        using var response = await inFlight.WaitAsync(TimeSpan.FromSeconds(20), token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("slow done", await response.Content.ReadAsStringAsync(token));
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(DateTime.UtcNow - signalled < TimeSpan.FromSeconds(15), "the proxy took longer than its drain time to exit");
    }

    internal static async Task WaitForPortAsync(int port, ProxyProcess process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(process.HasExited, $"proxy exited: {process.Stderr}");
            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }
    }
}
