using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EgressLab.ProxyInstance.Tests.Forwarding;
using EgressLab.ProxyInstance.Tests.Hosting;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Robustness;

/// <summary>
/// Drain: SIGTERM to the proxy running as its own process, under traffic. Requests in flight finish with their whole
/// body, open tunnels keep relaying until they end or the drain time runs out, new connections are refused, and the
/// process exits 0 within the drain time.
/// </summary>
public sealed class DrainTests : RobustnessTest
{
    private const string Host = "www.example.com";
    private const int LargeBody = 8 * 1024 * 1024;
    // Process exit after the drain: flushing the access log and tearing down the runtime, on a busy machine.
    private static readonly TimeSpan ExitMargin = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly int[] SlowMilliseconds = [2000, 2500, 3000];

    private readonly ITestOutputHelper? _output = TestContext.Current.TestOutputHelper;

    [Fact]
    public async Task Sigterm_InFlightRequestsAndOpenTunnels_FinishRefuseNewAndExitWithinDrain()
    {
        // Far longer than the work below needs, so the drain time never cuts it, even on a busy machine.
        var drain = TimeSpan.FromSeconds(15);
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: [Host]);
        await using var proxy = await DrainingProxy.StartAsync(origin, drain);
        using var client = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy(proxy.ProxyUri), UseProxy = true }) { Timeout = Bound };
        using var admin = new HttpClient { Timeout = Bound };
        var url = $"http://{Host}:{origin.Port}";

        // Plain requests held in flight at the origin, a streamed response half-delivered, a large body half-read.
        var slow = SlowMilliseconds.Select(ms => client.GetStringAsync($"{url}/slow/{ms}", Token)).ToList();
        using var drip = await client.GetAsync($"{url}/drip", HttpCompletionOption.ResponseHeadersRead, Token).WaitAsync(Bound, Token);
        await using var dripBody = await drip.Content.ReadAsStreamAsync(Token);
        var dripFirst = new byte[5];
        await dripBody.ReadExactlyAsync(dripFirst, Token).AsTask().WaitAsync(Bound, Token);
        using var large = await client.GetAsync($"{url}/bytes/{LargeBody}", HttpCompletionOption.ResponseHeadersRead, Token).WaitAsync(Bound, Token);
        await using var largeBody = await large.Content.ReadAsStreamAsync(Token);
        var largeRead = await ReadPatternAsync(largeBody, 0, 256 * 1024, pause: TimeSpan.Zero);

        // Two tunnels: one with a response held open by the origin, one exchanging data continuously.
        await using var held = await TlsTunnelClient.OpenAsync(proxy.ProxyEndPoint, Host, origin.TlsPort, Token);
        await using var busy = await TlsTunnelClient.OpenAsync(proxy.ProxyEndPoint, Host, origin.TlsPort, Token);
        var heldDrip = held.GetAsync("/drip", Token);
        RobustnessLedger.Requests(slow.Count + 3);
        using var stopBusy = new CancellationTokenSource();
        var busyLog = new TunnelLog();
        var busyLoop = ExchangeUntilAsync(busy, "busy", busyLog, stopBusy.Token);
        await WaitUntilAsync(() => origin.RequestTargets.Count(t => t.StartsWith("/slow/", StringComparison.Ordinal)) == slow.Count
            && origin.RequestTargets.Count(t => t == "/drip") == 2 && busyLog.Count > 3, "every request to be in flight");
        using (var ready = await admin.GetAsync($"http://{proxy.AdminEndPoint}/readyz", Token))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        Assert.False(slow.Any(t => t.IsCompleted) || heldDrip.IsCompleted, "a request finished before the signal: nothing would be in flight");

        var signalled = Stopwatch.StartNew();
        proxy.Process.SendSignal("TERM");
        busyLog.MarkSignal();
        RobustnessLedger.Faults();
        await proxy.Process.WaitForLogAsync("Application is shutting down", Bound);

        await AssertRefusedAsync(proxy.ProxyEndPoint, "proxy");
        var readiness = await ReadinessDuringDrainAsync(proxy.AdminEndPoint);
        _output?.WriteLine($"/readyz after SIGTERM: {readiness}");

        // Everything in flight completes side by side; the large body is read slowly, so it streams well into the drain.
        origin.DripGate.TrySetResult();
        var largeRest = ReadPatternAsync(largeBody, largeRead, LargeBody - largeRead, pause: TimeSpan.FromMilliseconds(5));
        var heldLog = new TunnelLog();
        var heldWork = HeldThenBusyAsync();
        var bodies = await Task.WhenAll(slow).WaitAsync(Bound, Token);
        Assert.Equal(["slow done", "slow done", "slow done"], bodies);
        using (var rest = new MemoryStream())
        {
            await dripBody.CopyToAsync(rest, Token).WaitAsync(Bound, Token);
            Assert.Equal("first-last", Encoding.ASCII.GetString(dripFirst) + Encoding.ASCII.GetString(rest.ToArray()));
        }

        Assert.Equal(LargeBody, await largeRest.WaitAsync(Bound, Token));
        Assert.Equal(0, await largeBody.ReadAsync(new byte[1], Token).AsTask().WaitAsync(Bound, Token));
        var (heldStatus, heldBody) = await heldWork.WaitAsync(Bound, Token);
        Assert.Equal((200, "first-last"), (heldStatus, Encoding.ASCII.GetString(heldBody)));

        // Both tunnels carried new exchanges during the drain; now their clients end them.
        await stopBusy.CancelAsync();
        await busyLoop.WaitAsync(Bound, Token);
        Assert.Null(heldLog.Failure);
        Assert.Null(busyLog.Failure);
        Assert.True(heldLog.Count > 0 && busyLog.AfterSignal(TimeSpan.Zero) > 0, $"tunnels carried {heldLog.Count} and {busyLog.AfterSignal(TimeSpan.Zero)} exchanges after SIGTERM");
        await held.DisposeAsync();
        await busy.DisposeAsync();

        var exitCode = await proxy.Process.WaitForExitAsync(drain + ExitMargin + Bound);
        var exitedAfter = signalled.Elapsed;
        _output?.WriteLine($"exited {exitCode} {exitedAfter.TotalSeconds:F1} s after SIGTERM (drain {drain.TotalSeconds} s); tunnels carried {heldLog.Count} and {busyLog.Count} exchanges");
        Assert.Equal(0, exitCode);
        Assert.True(exitedAfter < drain + ExitMargin, $"the proxy exited {exitedAfter.TotalSeconds:F1} s after SIGTERM, drain time {drain.TotalSeconds} s");
        // Every request and tunnel that finished during the drain is in the access log: it was flushed before exit.
        var lines = proxy.AccessLog();
        Assert.Equal(3, lines.Count(l => l.Target.Contains("/slow/", StringComparison.Ordinal) && l.Status == 200));
        Assert.Single(lines, l => l.Target.EndsWith("/drip", StringComparison.Ordinal) && l.Status == 200 && l.BytesDown == "first-last".Length);
        Assert.Single(lines, l => l.Target.EndsWith($"/bytes/{LargeBody}", StringComparison.Ordinal) && l.BytesDown == LargeBody);
        Assert.Equal(2, lines.Count(l => l.Kind == "tunnel" && l.Status == 200 && l.Detail is null));

        // The held tunnel's response arrives once the origin releases it; then the tunnel carries new exchanges.
        async Task<(int Status, byte[] Body)> HeldThenBusyAsync()
        {
            var response = await heldDrip;
            using var stopHeld = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await ExchangeUntilAsync(held, "held", heldLog, stopHeld.Token);
            return response;
        }
    }

    [Fact]
    public async Task Sigterm_TunnelOutlivesDrain_ClosedWhenDrainRunsOutAndProcessExitsInTime()
    {
        var drain = TimeSpan.FromSeconds(4);
        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: [Host]);
        await using var proxy = await DrainingProxy.StartAsync(origin, drain);
        await using var tunnel = await TlsTunnelClient.OpenAsync(proxy.ProxyEndPoint, Host, origin.TlsPort, Token);
        var log = new TunnelLog();
        using var bound = new CancellationTokenSource(Bound);
        var loop = ExchangeUntilAsync(tunnel, "long", log, bound.Token);
        await WaitUntilAsync(() => log.Count > 3, "the tunnel to carry data");

        var signalled = Stopwatch.StartNew();
        proxy.Process.SendSignal("TERM");
        log.MarkSignal();
        RobustnessLedger.Faults();
        await loop.WaitAsync(Bound + Bound, Token);
        var exitCode = await proxy.Process.WaitForExitAsync(drain + ExitMargin + Bound);
        var exitedAfter = signalled.Elapsed;
        _output?.WriteLine($"tunnel cut {log.FailedAt?.TotalSeconds:F1} s after SIGTERM ({log.Failure}); last exchange at {log.LastAt.TotalSeconds:F1} s; "
            + $"exited {exitCode} after {exitedAfter.TotalSeconds:F1} s (drain {drain.TotalSeconds} s)");

        Assert.NotNull(log.Failure);
        // Not cut early: it relayed through the drain and was closed only when the drain time ran out.
        Assert.True(log.FailedAt >= drain - TimeSpan.FromMilliseconds(500), $"the tunnel was cut {log.FailedAt?.TotalSeconds:F1} s after SIGTERM, before the drain time ran out");
        Assert.True(log.AfterSignal(drain / 2) > 0, "the tunnel stopped relaying early in the drain");
        Assert.Equal(0, exitCode);
        Assert.True(exitedAfter < drain + ExitMargin, $"the proxy exited {exitedAfter.TotalSeconds:F1} s after SIGTERM, drain time {drain.TotalSeconds} s");
        var line = Assert.Single(proxy.AccessLog(), l => l.Kind == "tunnel");
        Assert.Equal("Aborted", line.Detail);
    }

    /// <summary>Keeps sending keep-alive requests through <paramref name="tunnel"/> until stopped or the first failure.</summary>
    private static async Task ExchangeUntilAsync(TlsTunnelClient tunnel, string name, TunnelLog log, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            // Every tenth exchange moves a larger body, so that data is in flight much of the time.
            var path = n % 10 == 9 ? "/bytes/262144" : $"/tunnel/{name}/{n}";
            RobustnessLedger.Requests();
            try
            {
                var (status, body) = await tunnel.GetAsync(path, Token);
                var expected = n % 10 == 9 ? body.Length == 262144 && body.Select((b, i) => b == OriginServer.PatternByte(i)).All(x => x) : Encoding.ASCII.GetString(body) == $"GET {path} from origin";
                if (status != 200 || !expected)
                {
                    log.Fail($"{path}: {status} with {body.Length} bytes");
                    return;
                }

                log.Succeeded();
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                log.Fail(ex.GetType().Name + ": " + ex.Message);
                return;
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }

    private static async Task<int> ReadPatternAsync(Stream body, int offset, int count, TimeSpan pause)
    {
        var buffer = new byte[64 * 1024];
        var end = offset + count;
        while (offset < end)
        {
            var read = await body.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, end - offset)), Token).AsTask().WaitAsync(Bound, Token);
            Assert.True(read > 0, $"the body ended after {offset} bytes");
            for (var i = 0; i < read; i++)
            {
                Assert.True(buffer[i] == OriginServer.PatternByte(offset + i), $"byte {offset + i} of the body is wrong");
            }

            offset += read;
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, Token);
            }
        }

        return offset;
    }

    /// <summary>Waits (bounded) until a connection to <paramref name="endPoint"/> is refused, then checks that it stays refused.</summary>
    private static async Task AssertRefusedAsync(IPEndPoint endPoint, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var refusals = 0;
        while (refusals < 3)
        {
            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(endPoint, Token).AsTask().WaitAsync(Bound, Token);
                Assert.True(refusals == 0, $"the {what} listener accepted a connection after refusing one");
                Assert.True(DateTime.UtcNow < deadline, $"the {what} listener still accepts connections after SIGTERM");
                await Task.Delay(20, Token);
            }
            // A connection caught in the listen backlog as the listener closes is reset instead: refused as well.
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
            {
                refusals++;
            }
        }
    }

    /// <summary>
    /// What a health checker sees on <c>/readyz</c> once SIGTERM has been handled: <c>503</c> while the admin listener is
    /// still open, connection refused once it has closed (it closes with the proxy listener). Never <c>200</c>.
    /// </summary>
    private static async Task<string> ReadinessDuringDrainAsync(IPEndPoint endPoint)
    {
        // A client of its own: a connection pooled before the signal would fail differently from a refused one.
        using var admin = new HttpClient { Timeout = Bound };
        var seen = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{endPoint}/readyz");
                request.Headers.ConnectionClose = true;
                using var response = await admin.SendAsync(request, Token);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.Equal("draining\n", await response.Content.ReadAsStringAsync(Token));
                seen.Add("503 draining");
            }
            catch (HttpRequestException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                seen.Add("connection refused");
                break;
            }

            await Task.Delay(20, Token);
        }

        Assert.Equal("connection refused", seen.LastOrDefault());
        return string.Join(", then ", seen.Distinct());
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20, Token);
        }
    }

    /// <summary>When a tunnel's exchanges succeeded and how it failed, as times since the drain began (see <see cref="MarkSignal"/>).</summary>
    private sealed class TunnelLog
    {
        private readonly Lock _lock = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<TimeSpan> _times = [];
        private TimeSpan _signal;

        public int Count { get { lock (_lock) { return _times.Count; } } }

        public TimeSpan LastAt { get { lock (_lock) { return _times.Count == 0 ? TimeSpan.Zero : _times[^1] - _signal; } } }

        public string? Failure { get; private set; }

        public TimeSpan? FailedAt { get; private set; }

        public void MarkSignal()
        {
            lock (_lock)
            {
                _signal = _clock.Elapsed;
            }
        }

        public void Succeeded()
        {
            lock (_lock)
            {
                _times.Add(_clock.Elapsed);
            }
        }

        public void Fail(string why)
        {
            lock (_lock)
            {
                FailedAt = _clock.Elapsed - _signal;
                Failure = why;
            }
        }

        /// <summary>How many exchanges succeeded at least <paramref name="after"/> past the signal.</summary>
        public int AfterSignal(TimeSpan after)
        {
            lock (_lock)
            {
                return _times.Count(t => t - _signal >= after);
            }
        }
    }

    /// <summary>An access log line in the JSON format, the fields these tests read.</summary>
    private sealed record AccessLine(string Kind, string Target, int Status, long BytesDown, string? Detail);

    /// <summary>The proxy as its own process, with a JSON access log file and an admin listener.</summary>
    private sealed class DrainingProxy : IAsyncDisposable
    {
        private readonly string _directory;

        private DrainingProxy(ProxyProcess process, string directory, int proxyPort, int adminPort)
        {
            Process = process;
            _directory = directory;
            ProxyEndPoint = new IPEndPoint(IPAddress.Loopback, proxyPort);
            AdminEndPoint = new IPEndPoint(IPAddress.Loopback, adminPort);
        }

        public ProxyProcess Process { get; }
        public IPEndPoint ProxyEndPoint { get; }
        public IPEndPoint AdminEndPoint { get; }
        public Uri ProxyUri => new($"http://{ProxyEndPoint}");

        public static async Task<DrainingProxy> StartAsync(OriginServer origin, TimeSpan drain)
        {
            var directory = Path.Combine(Path.GetTempPath(), "egress-drain-tests", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            var proxyPort = PlainHttpTests.UnusedPort();
            var adminPort = PlainHttpTests.UnusedPort();
            var config = Path.Combine(directory, "proxy.json");
            await File.WriteAllTextAsync(config, $$"""
                { "Proxy": { "Listen": [ "127.0.0.1:{{proxyPort}}" ], "AdminListen": "127.0.0.1:{{adminPort}}",
                  "AccessLog": { "Format": "json", "Path": {{JsonSerializer.Serialize(Path.Combine(directory, "access.log"))}} },
                  "Timeouts": { "Drain": "{{drain.ToString("c", CultureInfo.InvariantCulture)}}" },
                  "Dns": { "Hosts": { "{{Host}}": [ "127.0.0.1" ] } },
                  "Policy": { "AllowedPrivateDestinations": [ "127.0.0.1/32" ],
                    "Rules": [ { "Name": "origin", "Action": "Allow", "Domains": [ "{{Host}}" ], "Ports": [ {{origin.Port}}, {{origin.TlsPort}} ] } ] } } }
                """, Token);
            var process = ProxyProcess.Start(["--config", config]);
            var proxy = new DrainingProxy(process, directory, proxyPort, adminPort);
            await ProgramTests.WaitForPortAsync(proxyPort, process);
            await ProgramTests.WaitForPortAsync(adminPort, process);
            return proxy;
        }

        public List<AccessLine> AccessLog() =>
            File.ReadAllLines(Path.Combine(_directory, "access.log")).Where(l => l.Length > 0).Select(l =>
            {
                using var json = JsonDocument.Parse(l);
                var root = json.RootElement;
                return new AccessLine(root.GetProperty("kind").GetString()!, root.GetProperty("target").GetString()!, root.GetProperty("status").GetInt32(),
                    root.GetProperty("bytes_down").GetInt64(), root.GetProperty("detail").GetString());
            }).ToList();

        public async ValueTask DisposeAsync()
        {
            await Process.DisposeAsync();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
