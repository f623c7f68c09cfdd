using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.Configuration;
using EgressLab.ProxyInstance.Tests.Metrics;
using EgressLab.ProxyInstance.Tests.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EgressLab.ProxyInstance.Tests.Robustness;

/// <summary>
/// Reload under load: the config file is rewritten 50 times while plain, HTTPS and denied traffic flows and
/// long-lived tunnels keep exchanging data. No request may fail because of a reload, the tunnels must survive every
/// one, and an invalid file must never replace the policy in force.
/// </summary>
public sealed class ReloadUnderLoadTests : RobustnessTest
{
    private const int Rewrites = 50;
    private const int LongLivedTunnels = 3;
    private const string AllowedHost = "www.example.com";
    private const string DeniedHost = "blocked.example.net";
    // Denied until the last rewrite allows it: proves the final file is the one in force.
    private const string FinalHost = "final.example.org";
    private static readonly TimeSpan ReloadWait = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(20);

    private enum InvalidKind
    {
        BadJson,
        BadRule,
        HalfWritten,
        UnknownKey,
        Empty,
        TimeoutTooLong,
    }

    [Fact]
    public async Task ConfigRewrites_UnderSteadyTraffic_NoRequestFailsTunnelsSurviveInvalidFilesRejected()
    {
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: [AllowedHost]);
        var network = new TestNetwork().Map(AllowedHost, IPAddress.Loopback).Map(DeniedHost, IPAddress.Loopback).Map(FinalHost, IPAddress.Loopback);
        var logs = new CapturingLoggerProvider();
        await using var proxy = await ProxyServer.StartAsync(ValidConfig(origin, 0, final: false), services =>
        {
            network.Register(services);
            services.AddSingleton<ILoggerProvider>(logs);
        });
        using var admin = new HttpClient { Timeout = RequestTimeout };
        var metricsUrl = $"http://{proxy.AdminEndPoint}/metrics";
        using var probe = proxy.CreateClient();
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(probe, $"http://{FinalHost}:{origin.Port}/"));

        var traffic = new Traffic();
        var tunnels = new List<TlsTunnelClient>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var workers = new List<Task>();
        var invalidWritten = 0;
        try
        {
            for (var i = 0; i < LongLivedTunnels; i++)
            {
                tunnels.Add(await TlsTunnelClient.OpenAsync(proxy.ProxyEndPoint, AllowedHost, origin.TlsPort, Token));
            }

            workers.AddRange(Enumerable.Range(0, 2).Select(w => PlainWorkerAsync(proxy, origin, w, traffic, stop.Token)));
            workers.AddRange(Enumerable.Range(0, 2).Select(w => HttpsWorkerAsync(proxy, origin, w, traffic, stop.Token)));
            workers.Add(DeniedWorkerAsync(proxy, origin, traffic, stop.Token));
            workers.AddRange(tunnels.Select((t, i) => TunnelWorkerAsync(t, i, traffic, stop.Token)));

            // Every tunnel has carried data before the first rewrite.
            await WaitForTunnelExchangesAsync(traffic);
            var (successes, failures) = await ReloadCountsAsync(admin, metricsUrl);
            Assert.Equal((0, 0), (successes, failures));
            for (var i = 0; i < Rewrites; i++)
            {
                // Every third rewrite is invalid, cycling through the kinds; the last rewrite is valid and final.
                var invalid = i % 3 == 1 && i < Rewrites - 1 ? (InvalidKind?)(InvalidKind)(invalidWritten % 6) : null;
                if (invalid is { } kind)
                {
                    // A half-written file is the first half of the valid file that follows it.
                    var next = ValidConfig(origin, i + 1, final: false);
                    next["Proxy"]!["AccessLog"] = new JsonObject { ["Path"] = proxy.AccessLogPath };
                    await File.WriteAllTextAsync(proxy.ConfigPath, InvalidConfig(kind, origin, next), Token);
                    invalidWritten++;
                    failures = await WaitForReloadAsync(admin, metricsUrl, successes, failures + 1, "rejection", i);
                }
                else
                {
                    await proxy.RewriteConfigAsync(ValidConfig(origin, i, final: i == Rewrites - 1));
                    successes = await WaitForReloadAsync(admin, metricsUrl, successes + 1, failures, "reload", i);
                }

                // Each long-lived tunnel carries data after every reload, not only at the end.
                await WaitForTunnelExchangesAsync(traffic);
            }

            // Traffic keeps flowing on the final policy for a moment before the workers stop.
            await WaitForTunnelExchangesAsync(traffic);
            await stop.CancelAsync();
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30), Token);

            Assert.Empty(traffic.Failures);
            Assert.True(traffic.Plain > Rewrites && traffic.Https > Rewrites && traffic.Denied > Rewrites,
                $"too little traffic to mean anything: {traffic}");
            Assert.All(traffic.TunnelExchanges, n => Assert.True(n > Rewrites, $"a long-lived tunnel carried only {n} exchanges"));
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(probe, $"http://{FinalHost}:{origin.Port}/"));
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(probe, $"http://{DeniedHost}:{origin.Port}/"));

            // Exactly one reload per rewrite: the debounce neither lost a rewrite nor applied one twice.
            Assert.Equal((Rewrites - invalidWritten, invalidWritten), await ReloadCountsAsync(admin, metricsUrl));
            var reloaded = logs.Messages.Count(m => m.StartsWith("Configuration reloaded from", StringComparison.Ordinal));
            var rejected = logs.Messages.Where(m => m.Contains("rejected after file change, the previous policy stays in force", StringComparison.Ordinal)).ToList();
            Assert.Equal(Rewrites - invalidWritten, reloaded);
            Assert.Equal(invalidWritten, rejected.Count);
            Assert.Contains(rejected, m => m.Contains("not valid JSON", StringComparison.Ordinal));
            Assert.Contains(rejected, m => m.Contains("$.Proxy.Policy.Rules[0].Domains[0]", StringComparison.Ordinal));
            Assert.Contains(rejected, m => m.Contains("$.Proxy.Polcy", StringComparison.Ordinal));
            Assert.Contains(rejected, m => m.Contains("$.Proxy.Timeouts.ClientHello", StringComparison.Ordinal));
            TestContext.Current.TestOutputHelper?.WriteLine($"{Rewrites} rewrites ({invalidWritten} invalid): {traffic}");
        }
        finally
        {
            await stop.CancelAsync();
            // Bounded, and without throwing: a worker's own failure must not hide the assertion that failed.
            await Task.WhenAny(Task.WhenAll(workers), Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None));
            foreach (var tunnel in tunnels)
            {
                await tunnel.DisposeAsync();
            }

            RobustnessLedger.Requests(traffic.Total);
            RobustnessLedger.Faults(Rewrites);
            RobustnessLedger.BadInputs(invalidWritten);
        }
    }

    /// <summary>
    /// A valid config that keeps every outcome the traffic checks, and still differs from one rewrite to the next:
    /// unrelated rules come and go, reloadable timeouts and the Via header change.
    /// </summary>
    private static JsonObject ValidConfig(OriginServer origin, int variant, bool final)
    {
        var ports = new JsonArray(origin.Port, origin.TlsPort);
        var rules = new JsonArray(
            new JsonObject { ["Name"] = "deny-blocked", ["Action"] = "Deny", ["Domains"] = new JsonArray(DeniedHost), ["Ports"] = ports.DeepClone() },
            new JsonObject { ["Name"] = "allow-origin", ["Action"] = "Allow", ["Domains"] = new JsonArray(AllowedHost), ["Ports"] = ports.DeepClone() });
        for (var j = 0; j < variant % 4; j++)
        {
            rules.Add(new JsonObject
            {
                ["Name"] = $"unrelated-{variant}-{j}",
                ["Action"] = j % 2 == 0 ? "Allow" : "Deny",
                ["Domains"] = new JsonArray($".unrelated{j}.example.org"),
                ["Ports"] = new JsonArray(8080 + j),
            });
        }

        if (final)
        {
            rules.Add(new JsonObject { ["Name"] = "allow-final", ["Action"] = "Allow", ["Domains"] = new JsonArray(FinalHost), ["Ports"] = ports.DeepClone() });
        }

        var policy = new JsonObject { ["DefaultAction"] = "Deny", ["Rules"] = rules };
        var hosts = new Dictionary<string, string> { [AllowedHost] = "127.0.0.1", [DeniedHost] = "127.0.0.1", [FinalHost] = "127.0.0.1" };
        return ProxyServer.Config(policy, hosts, proxy =>
        {
            var timeouts = proxy["Timeouts"]!.AsObject();
            timeouts["UpstreamResponse"] = $"00:00:{30 + (variant % 20):D2}";
            timeouts["TunnelIdle"] = $"00:0{2 + (variant % 5)}:00";
            proxy["Headers"] = new JsonObject { ["AddVia"] = variant % 2 == 0 };
        });
    }

    /// <summary>
    /// An invalid file of the given kind. Those that parse would open the proxy to everything, or break every new
    /// tunnel, if they were applied, so the traffic would notice.
    /// </summary>
    private static string InvalidConfig(InvalidKind kind, OriginServer origin, JsonObject next)
    {
        var open = new JsonObject { ["DefaultAction"] = "Allow", ["Rules"] = new JsonArray() };
        switch (kind)
        {
            case InvalidKind.BadJson:
                return "{ \"Proxy\": { \"Policy\": { \"DefaultAction\": \"Allow\", ";
            case InvalidKind.BadRule:
                open["Rules"]!.AsArray().Add(new JsonObject { ["Name"] = "bad", ["Action"] = "Allow", ["Domains"] = new JsonArray("a.*.com") });
                return ProxyServer.Config(open).ToJsonString();
            case InvalidKind.HalfWritten:
                var text = next.ToJsonString();
                return text[..(text.Length / 2)];
            case InvalidKind.UnknownKey:
                var misspelt = ProxyServer.Config(open);
                misspelt["Proxy"]!["Polcy"] = misspelt["Proxy"]!["Policy"]!.DeepClone();
                misspelt["Proxy"]!["Policy"]!["Rules"]!.AsArray().Add(new JsonObject { ["Name"] = "any", ["Action"] = "Allow", ["Ports"] = new JsonArray(origin.Port) });
                return misspelt.ToJsonString();
            case InvalidKind.TimeoutTooLong:
                // Longer than a timer can wait: were it applied, arming it would fail every new tunnel.
                next["Proxy"]!["Timeouts"]!["ClientHello"] = "60.00:00:00";
                return next.ToJsonString();
            default:
                return string.Empty;
        }
    }

    private static async Task<int> WaitForReloadAsync(HttpClient admin, string metricsUrl, int successes, int failures, string what, int rewrite)
    {
        var deadline = DateTime.UtcNow + ReloadWait;
        while (true)
        {
            var counts = await ReloadCountsAsync(admin, metricsUrl);
            if (counts == (successes, failures))
            {
                return what == "reload" ? successes : failures;
            }

            Assert.True(counts.Successes <= successes && counts.Failures <= failures,
                $"rewrite {rewrite}: expected a {what}, the counts went to {counts} (expected {(successes, failures)})");
            Assert.True(DateTime.UtcNow < deadline, $"rewrite {rewrite}: no {what} within {ReloadWait.TotalSeconds} s; counts {counts}");
            await Task.Delay(50, Token);
        }
    }

    private static async Task<(int Successes, int Failures)> ReloadCountsAsync(HttpClient admin, string metricsUrl)
    {
        var text = PrometheusText.Parse(await admin.GetStringAsync(metricsUrl, Token));
        var samples = text.Named("proxy_config_reloads_total");
        int Count(string result) => (int)samples.Where(s => s.Labels.TryGetValue("result", out var r) && r == result).Sum(s => s.Value);
        return (Count("success"), Count("failure"));
    }

    /// <summary>Waits until every long-lived tunnel has completed an exchange that started after this call.</summary>
    private static async Task WaitForTunnelExchangesAsync(Traffic traffic)
    {
        var before = traffic.TunnelExchanges.ToArray();
        var deadline = DateTime.UtcNow + ReloadWait;
        while (traffic.TunnelExchanges.Select((n, i) => n - before[i]).Any(d => d < 2))
        {
            Assert.True(traffic.Failures.IsEmpty, "traffic failed: " + string.Join(" | ", traffic.Failures.Take(5)));
            Assert.True(DateTime.UtcNow < deadline, $"a long-lived tunnel stopped carrying data: {string.Join(", ", traffic.TunnelExchanges)}");
            await Task.Delay(20, Token);
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url, Token).WaitAsync(RequestTimeout, Token);
        return response.StatusCode;
    }

    private static async Task PlainWorkerAsync(ProxyServer proxy, OriginServer origin, int worker, Traffic traffic, CancellationToken stop)
    {
        using var client = proxy.CreateClient();
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            await traffic.RunAsync("plain", async () =>
            {
                if (n % 2 == 0)
                {
                    var path = $"/plain/{worker}/{n}";
                    using var response = await client.GetAsync($"http://{AllowedHost}:{origin.Port}{path}", Token).WaitAsync(RequestTimeout, Token);
                    return await ExpectAsync(response, HttpStatusCode.OK, $"GET {path} from origin");
                }

                using var bytes = await client.GetAsync($"http://{AllowedHost}:{origin.Port}/bytes/65536", Token).WaitAsync(RequestTimeout, Token);
                return await ExpectPatternAsync(bytes, 65536);
            }, () => Interlocked.Increment(ref traffic.Plain));
            await Pause(stop);
        }
    }

    private static async Task HttpsWorkerAsync(ProxyServer proxy, OriginServer origin, int worker, Traffic traffic, CancellationToken stop)
    {
        using var client = proxy.CreateClient();
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            await traffic.RunAsync("https", async () =>
            {
                var path = $"/tls/{worker}/{n}";
                using var request = new HttpRequestMessage(HttpMethod.Get, $"https://{AllowedHost}:{origin.TlsPort}{path}");
                // Every fifth request closes its connection, so new CONNECTs are decided throughout the reloads.
                request.Headers.ConnectionClose = n % 5 == 0;
                using var response = await client.SendAsync(request, Token).WaitAsync(RequestTimeout, Token);
                return await ExpectAsync(response, HttpStatusCode.OK, $"GET {path} from origin");
            }, () => Interlocked.Increment(ref traffic.Https));
            await Pause(stop);
        }
    }

    private static async Task DeniedWorkerAsync(ProxyServer proxy, OriginServer origin, Traffic traffic, CancellationToken stop)
    {
        using var client = proxy.CreateClient();
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            await traffic.RunAsync("denied", async () =>
            {
                if (n % 2 == 0)
                {
                    using var response = await client.GetAsync($"http://{DeniedHost}:{origin.Port}/", Token).WaitAsync(RequestTimeout, Token);
                    return response.StatusCode == HttpStatusCode.Forbidden && response.Headers.TryGetValues("X-Proxy-Error", out var codes) && codes.Single() == "ERR_ACCESS_DENIED"
                        ? null
                        : $"plain request to the denied name answered {(int)response.StatusCode}";
                }

                await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
                await raw.SendAsync($"CONNECT {DeniedHost}:{origin.TlsPort} HTTP/1.1\r\nHost: {DeniedHost}:{origin.TlsPort}\r\n\r\n");
                var head = await raw.ReadHeadAsync();
                return head.StartsWith("HTTP/1.1 403 ", StringComparison.Ordinal) ? null : $"CONNECT to the denied name answered '{head.Split("\r\n")[0]}'";
            }, () => Interlocked.Increment(ref traffic.Denied));
            await Pause(stop);
        }
    }

    private static async Task TunnelWorkerAsync(TlsTunnelClient tunnel, int index, Traffic traffic, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var path = $"/tunnel/{index}/{n}";
            var ok = await traffic.RunAsync("tunnel", async () =>
            {
                var (status, body) = await tunnel.GetAsync(path, Token);
                var text = Encoding.UTF8.GetString(body);
                return status == 200 && text == $"GET {path} from origin" ? null : $"{status} '{text}'";
            }, () => Interlocked.Increment(ref traffic.TunnelExchanges[index]));
            if (!ok)
            {
                // A broken tunnel is never reopened: that is exactly what must not happen.
                return;
            }

            await Pause(stop);
        }
    }

    private static async Task<string?> ExpectAsync(HttpResponseMessage response, HttpStatusCode status, string body)
    {
        var text = await response.Content.ReadAsStringAsync(Token).WaitAsync(RequestTimeout, Token);
        return response.StatusCode == status && text == body ? null : $"{(int)response.StatusCode} '{text}' (expected {(int)status} '{body}')";
    }

    private static async Task<string?> ExpectPatternAsync(HttpResponseMessage response, int size)
    {
        var body = await response.Content.ReadAsByteArrayAsync(Token).WaitAsync(RequestTimeout, Token);
        if (response.StatusCode != HttpStatusCode.OK || body.Length != size)
        {
            return $"{(int)response.StatusCode} with {body.Length} bytes (expected 200 with {size})";
        }

        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] != OriginServer.PatternByte(i))
            {
                return $"byte {i} of the body is wrong";
            }
        }

        return null;
    }

    // A short pause keeps the traffic steady rather than saturating two shared cores.
    private static async Task Pause(CancellationToken stop)
    {
        try
        {
            await Task.Delay(10, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>What the workers did: successes by kind and every failure, described.</summary>
    private sealed class Traffic
    {
        public int Plain;
        public int Https;
        public int Denied;
        public readonly int[] TunnelExchanges = new int[LongLivedTunnels];

        public ConcurrentQueue<string> Failures { get; } = new();

        public long Total => Plain + Https + Denied + TunnelExchanges.Sum() + Failures.Count;

        /// <summary>Runs one exchange; <paramref name="exchange"/> returns null when it went as expected.</summary>
        public async Task<bool> RunAsync(string kind, Func<Task<string?>> exchange, Action succeeded)
        {
            string? failure;
            try
            {
                failure = await exchange();
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException or System.Net.Sockets.SocketException
                or OperationCanceledException or System.Security.Authentication.AuthenticationException)
            {
                failure = ex.GetType().Name + ": " + ex.Message;
            }

            if (failure is null)
            {
                succeeded();
                return true;
            }

            Failures.Enqueue($"{kind}: {failure} at {DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)}");
            return false;
        }

        public override string ToString() =>
            $"plain {Plain}, https {Https}, denied {Denied}, tunnel exchanges {string.Join("/", TunnelExchanges)}, failures {Failures.Count}";
    }
}
