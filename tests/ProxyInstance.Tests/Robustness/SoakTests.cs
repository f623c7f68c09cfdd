using System.Collections.Concurrent;
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
/// Soak: a bounded mixed-traffic run against the proxy as its own process, so that its resident memory and open
/// files can be sampled from /proc without the test's own sockets. EGRESS_SOAK_SECONDS sets the length (the
/// default is 120; 15 is enough for a quick local run).
/// </summary>
public sealed class SoakTests : RobustnessTest
{
    private const string AllowedHost = "www.example.com";
    private const string DeniedHost = "blocked.example.net";
    private const int SmallBody = 1024;
    private const int LargeBody = 1024 * 1024;
    private const int UploadBody = 256 * 1024;
    private const int TlsBody = 16 * 1024;
    private const int MaxIterationsPerWorker = 1_000_000;
    private const long MiB = 1024 * 1024;

    // Memory flatness. RSS of a .NET server moves by tens of MiB as the GC sizes its budgets and the thread pool
    // grows, so the bound is generous: the median of the last quarter of samples may exceed the median of the
    // first quarter after warm-up by 40 MiB plus 25%. Medians over a quarter of the run ignore single GC peaks.
    // At the default length the two quarters' midpoints are ~70 s and tens of thousands of requests apart, so a leak
    // of 4 KiB per request grows RSS by well over 100 MiB between them; the summary prints the smallest leak per
    // request this run could detect.
    private const double RssAbsoluteSlackMiB = 40;
    private const double RssRelativeSlack = 0.25;
    // Open files after traffic, against the median under traffic early in the run: client connections are gone, and
    // assemblies first loaded late (an error path) add a few. Sockets, against those open before any traffic: pooled
    // upstream connections, one per plain-HTTP worker at most, may stay until their idle timeout. A descriptor leaked
    // every thousand requests exceeds either margin.
    private const int FdMargin = 8;
    private const int SocketMargin = 6;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(5);
    private static readonly string[] Kinds = ["small", "large", "upload", "https", "denied", "malformed", "vanish"];

    private readonly ITestOutputHelper? _output = TestContext.Current.TestOutputHelper;

    [Fact]
    public async Task MixedTraffic_BoundedRun_MemoryAndOpenFilesStayFlat()
    {
        var duration = SoakDuration();
        // A hard stop for everything, whatever goes wrong: the run, the drain afterwards, and the margins.
        using var hard = CancellationTokenSource.CreateLinkedTokenSource(Token);
        hard.CancelAfter(duration + TimeSpan.FromMinutes(3));
        var token = hard.Token;

        await using var origin = await OriginServer.StartAsync(tls: true, tlsNames: [AllowedHost]);
        var directory = Path.Combine(Path.GetTempPath(), "egress-soak-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var counters = new Counters();
        // Stops the workers on every way out of the test, a failed assertion included.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        var workers = new List<Task>();
        try
        {
            var proxyPort = PlainHttpTests.UnusedPort();
            var adminPort = PlainHttpTests.UnusedPort();
            var config = Path.Combine(directory, "proxy.json");
            await File.WriteAllTextAsync(config, $$"""
                { "Proxy": { "Listen": [ "127.0.0.1:{{proxyPort}}" ], "AdminListen": "127.0.0.1:{{adminPort}}",
                  "AccessLog": { "Path": {{JsonSerializer.Serialize(Path.Combine(directory, "access.log"))}} },
                  "Timeouts": { "Drain": "{{Drain.ToString("c", CultureInfo.InvariantCulture)}}" },
                  "Dns": { "Hosts": { "{{AllowedHost}}": [ "127.0.0.1" ], "{{DeniedHost}}": [ "127.0.0.1" ] } },
                  "Policy": { "AllowedPrivateDestinations": [ "127.0.0.1/32" ],
                    "Rules": [ { "Name": "origin", "Action": "Allow", "Domains": [ "{{AllowedHost}}" ], "Ports": [ {{origin.Port}}, {{origin.TlsPort}} ] } ] } } }
                """, token);
            await using var process = ProxyProcess.Start(["--config", config]);
            await ProgramTests.WaitForPortAsync(proxyPort, process);
            var proxy = new IPEndPoint(IPAddress.Loopback, proxyPort);
            var idleBefore = OpenFiles(process.Id);
            var socketsBefore = OpenSockets(process.Id);

            var end = DateTime.UtcNow + duration;
            using var traffic = new Traffic(proxy, origin, counters, end, stop.Token);
            workers.AddRange(
            [
                traffic.RunAsync("small", traffic.SmallGetAsync),
                traffic.RunAsync("large", traffic.LargeGetAsync),
                traffic.RunAsync("upload", traffic.UploadAsync),
                traffic.RunAsync("https", traffic.HttpsGetAsync),
                traffic.RunAsync("https", traffic.HttpsGetAsync),
                traffic.RunAsync("denied", traffic.DeniedAsync),
                traffic.RunAsync("malformed", traffic.MalformedAsync),
                traffic.RunAsync("vanish", traffic.VanishAsync),
            ]);

            var samples = new List<Sample>();
            for (var i = 0; DateTime.UtcNow < end && i < (int)duration.TotalSeconds * 4; i++)
            {
                Assert.False(process.HasExited, "the proxy exited during the soak: " + process.Stderr);
                samples.Add(new Sample(ResidentBytes(process.Id), OpenFiles(process.Id), counters.Requests));
                await Task.Delay(TimeSpan.FromSeconds(1), token);
            }

            await Task.WhenAll(workers).WaitAsync(RequestTimeout * 3, token);
            traffic.Dispose();

            // Open files return to the warm level once clients have gone (bounded wait, no fixed sleep).
            var warm = samples.Skip(samples.Count / 5).ToList();
            var quarter = Math.Max(1, warm.Count / 4);
            var first = warm.Take(quarter).ToList();
            var last = warm.Skip(warm.Count - quarter).ToList();
            var fdBaseline = Median(first.Select(s => (double)s.OpenFiles));
            var idleAfter = OpenFiles(process.Id);
            var socketsAfter = OpenSockets(process.Id);
            for (var wait = Stopwatch.StartNew(); (idleAfter > fdBaseline + FdMargin || socketsAfter > socketsBefore + SocketMargin) && wait.Elapsed < TimeSpan.FromSeconds(30);)
            {
                await Task.Delay(250, token);
                idleAfter = OpenFiles(process.Id);
                socketsAfter = OpenSockets(process.Id);
            }

            var rssFirst = Median(first.Select(s => (double)s.ResidentBytes));
            var rssLast = Median(last.Select(s => (double)s.ResidentBytes));
            var rssBound = rssFirst + Math.Max(RssAbsoluteSlackMiB * MiB, RssRelativeSlack * rssFirst);
            var requestsBetween = Median(last.Select(s => (double)s.Requests)) - Median(first.Select(s => (double)s.Requests));
            _output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"soak {duration.TotalSeconds:F0} s, {samples.Count} samples: {counters}\n"
                + $"rss MiB: first sample {samples[0].ResidentBytes / (double)MiB:F1}, warm median {rssFirst / MiB:F1}, last median {rssLast / MiB:F1}, max {samples.Max(s => s.ResidentBytes) / (double)MiB:F1}, bound {rssBound / MiB:F1}\n"
                + $"rss MiB by tenths of the run: {string.Join(" ", Enumerable.Range(1, 10).Select(t => samples[Math.Max(0, (samples.Count * t / 10) - 1)].ResidentBytes / MiB))}\n"
                + $"open files: idle before {idleBefore}, warm median {fdBaseline:F0}, last median {Median(last.Select(s => (double)s.OpenFiles)):F0}, max {samples.Max(s => s.OpenFiles)}, idle after {idleAfter}; sockets idle before {socketsBefore}, after {socketsAfter}\n"
                + $"{requestsBetween:F0} requests between the medians: a leak above {(rssBound - rssFirst) / Math.Max(1, requestsBetween) / 1024:F1} KiB per request would fail"));

            // Traffic flowed: the flatness below would otherwise prove nothing.
            Assert.True(counters.Failures.IsEmpty, $"{counters.Failures.Count} unexpected failures, e.g.: {string.Join(" | ", counters.Failures.Take(10))}");
            Assert.True(counters.Requests >= Math.Max(1000, 20 * (long)duration.TotalSeconds), $"too little traffic: {counters}");
            Assert.All(Kinds, kind => Assert.True(counters.Count(kind) > 0, $"no {kind} exchange completed: {counters}"));
            Assert.True(rssLast <= rssBound, $"resident memory grew from {rssFirst / MiB:F1} MiB to {rssLast / MiB:F1} MiB (bound {rssBound / MiB:F1} MiB)");
            Assert.True(idleAfter <= fdBaseline + FdMargin && socketsAfter <= socketsBefore + SocketMargin,
                $"open files: {idleAfter} after traffic, warm baseline {fdBaseline:F0} (+{FdMargin} allowed); sockets {socketsAfter}, {socketsBefore} before (+{SocketMargin} allowed); "
                + $"open now: {OpenFileKinds(process.Id)}");

            // And it still shuts down cleanly after all that.
            process.SendSignal("TERM");
            counters.Fault();
            Assert.Equal(0, await process.WaitForExitAsync(Drain + TimeSpan.FromSeconds(30)));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAny(Task.WhenAll(workers), Task.Delay(RequestTimeout * 2, CancellationToken.None));
            RobustnessLedger.Requests(counters.Requests);
            RobustnessLedger.BadInputs(counters.BadInputs);
            RobustnessLedger.Faults(counters.Faults);
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static TimeSpan SoakDuration()
    {
        var text = Environment.GetEnvironmentVariable("EGRESS_SOAK_SECONDS");
        if (string.IsNullOrEmpty(text))
        {
            return TimeSpan.FromSeconds(120);
        }

        Assert.True(int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 10 and <= 3600,
            $"EGRESS_SOAK_SECONDS must be a whole number of seconds from 10 to 3600, not '{text}'");
        return TimeSpan.FromSeconds(seconds);
    }

    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidDataException($"/proc/{pid}/status has no VmRSS line");
    }

    private static int OpenFiles(int pid) => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;

    private static int OpenSockets(int pid) =>
        Directory.GetFileSystemEntries($"/proc/{pid}/fd").Count(fd => new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true);

    /// <summary>Open files by kind (socket, pipe, anon_inode:[eventpoll], a path...), to say what a leak is made of.</summary>
    private static string OpenFileKinds(int pid) => string.Join(", ", Directory.GetFileSystemEntries($"/proc/{pid}/fd")
        .Select(fd => new FileInfo(fd).LinkTarget ?? "?")
        .Select(target => target.StartsWith("socket:", StringComparison.Ordinal) ? "socket" : target.StartsWith("pipe:", StringComparison.Ordinal) ? "pipe" : target)
        .GroupBy(kind => kind, StringComparer.Ordinal)
        .OrderByDescending(g => g.Count())
        .Select(g => $"{g.Count()} {g.Key}"));

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed record Sample(long ResidentBytes, int OpenFiles, long Requests);

    /// <summary>What the run did, by kind of exchange, and every unexpected outcome.</summary>
    private sealed class Counters
    {
        private readonly ConcurrentDictionary<string, long> _byKind = new(StringComparer.Ordinal);
        private long _requests;
        private long _badInputs;
        private long _faults;

        public ConcurrentQueue<string> Failures { get; } = new();

        public long Requests => Interlocked.Read(ref _requests);
        public long BadInputs => Interlocked.Read(ref _badInputs);
        public long Faults => Interlocked.Read(ref _faults);

        public long Count(string kind) => _byKind.GetValueOrDefault(kind);

        public void Completed(string kind, int requests)
        {
            Interlocked.Add(ref _requests, requests);
            _byKind.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        public void BadInput() => Interlocked.Increment(ref _badInputs);

        public void Fault() => Interlocked.Increment(ref _faults);

        public void Fail(string kind, string why)
        {
            Interlocked.Increment(ref _requests);
            // Keep the first few descriptions; the count is what the assertion reports.
            if (Failures.Count < 50)
            {
                Failures.Enqueue($"{kind}: {why}");
            }
        }

        public override string ToString() =>
            $"{Requests} requests ({string.Join(", ", _byKind.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}"))}), "
            + $"{BadInputs} bad inputs, {Faults} faults, {Failures.Count} failures";
    }

    /// <summary>The traffic mix. Each worker loops on one kind of exchange until the end of the run.</summary>
    private sealed class Traffic : IDisposable
    {
        private readonly IPEndPoint _proxy;
        private readonly OriginServer _origin;
        private readonly Counters _counters;
        private readonly DateTime _end;
        private readonly CancellationToken _token;
        private readonly HttpClient _plain;
        private readonly HttpClient _tls;
        private readonly string[] _malformed;

        public Traffic(IPEndPoint proxy, OriginServer origin, Counters counters, DateTime end, CancellationToken token)
        {
            _proxy = proxy;
            _origin = origin;
            _counters = counters;
            _end = end;
            _token = token;
            _plain = Client(trustTestCa: false);
            _tls = Client(trustTestCa: true);
            var target = $"http://{AllowedHost}:{origin.Port}";
            _malformed =
            [
                "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
                $"GET ftp://{AllowedHost}/ HTTP/1.1\r\nHost: {AllowedHost}\r\n\r\n",
                "GARBAGE\r\n\r\n",
                $"POST {target}/upload HTTP/1.1\r\nHost: {AllowedHost}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcde",
                // The head is fine, so this one is forwarded; the bad chunk size is found while its body streams.
                $"POST {target}/upload HTTP/1.1\r\nHost: {AllowedHost}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
                $"GET {target}/ HTTP/1.1\r\nHost: {AllowedHost}\r\nBad Header: x\r\n\r\n",
                "CONNECT www.example.com:0 HTTP/1.1\r\n\r\n",
                $"CONNECT {AllowedHost}:{origin.TlsPort} HTTP/1.1\r\nX-Big: {new string('a', 70 * 1024)}\r\n\r\n",
                $"GET http://{AllowedHost}:{origin.Port}/ HTTP/1.1\r\nHost: {AllowedHost}\r\nX-Big: {new string('a', 70 * 1024)}\r\n\r\n",
            ];
        }

        public async Task RunAsync(string kind, Func<int, CancellationToken, Task<string?>> exchange)
        {
            for (var n = 0; n < MaxIterationsPerWorker && DateTime.UtcNow < _end && !_token.IsCancellationRequested; n++)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_token);
                timeout.CancelAfter(RequestTimeout);
                string? failure;
                try
                {
                    failure = await exchange(n, timeout.Token);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or SocketException or OperationCanceledException
                    or System.Security.Authentication.AuthenticationException)
                {
                    failure = ex.GetType().Name + ": " + ex.Message;
                }

                if (failure is null)
                {
                    _counters.Completed(kind, 1);
                }
                else
                {
                    _counters.Fail(kind, failure);
                }
            }
        }

        public async Task<string?> SmallGetAsync(int n, CancellationToken token)
        {
            if (n % 2 == 0)
            {
                var path = $"/small/{n}";
                using var echo = await _plain.GetAsync($"http://{AllowedHost}:{_origin.Port}{path}", token);
                var text = await echo.Content.ReadAsStringAsync(token);
                return echo.StatusCode == HttpStatusCode.OK && text == $"GET {path} from origin" ? null : $"{(int)echo.StatusCode} '{text}'";
            }

            using var response = await _plain.GetAsync($"http://{AllowedHost}:{_origin.Port}/bytes/{SmallBody}", token);
            return CheckPattern(response.StatusCode, await response.Content.ReadAsByteArrayAsync(token), SmallBody);
        }

        public async Task<string?> LargeGetAsync(int n, CancellationToken token)
        {
            using var response = await _plain.GetAsync($"http://{AllowedHost}:{_origin.Port}/bytes/{LargeBody}", token);
            return CheckPattern(response.StatusCode, await response.Content.ReadAsByteArrayAsync(token), LargeBody);
        }

        public async Task<string?> UploadAsync(int n, CancellationToken token)
        {
            var body = new byte[UploadBody];
            long sum = 0;
            for (var i = 0; i < body.Length; i++)
            {
                body[i] = (byte)(i + n);
                sum += body[i];
            }

            using var content = new ByteArrayContent(body);
            using var response = await _plain.PostAsync($"http://{AllowedHost}:{_origin.Port}/upload", content, token);
            var text = await response.Content.ReadAsStringAsync(token);
            return response.StatusCode == HttpStatusCode.OK && text == $"POST {UploadBody} {sum}" ? null : $"{(int)response.StatusCode} '{text}'";
        }

        public async Task<string?> HttpsGetAsync(int n, CancellationToken token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"https://{AllowedHost}:{_origin.TlsPort}/bytes/{TlsBody}");
            // Some requests close their connection, so new tunnels open throughout the run, not only pooled ones.
            request.Headers.ConnectionClose = n % 20 == 0;
            using var response = await _tls.SendAsync(request, token);
            return CheckPattern(response.StatusCode, await response.Content.ReadAsByteArrayAsync(token), TlsBody);
        }

        public async Task<string?> DeniedAsync(int n, CancellationToken token)
        {
            if (n % 2 == 0)
            {
                using var response = await _plain.GetAsync($"http://{DeniedHost}:{_origin.Port}/", token);
                return response.StatusCode == HttpStatusCode.Forbidden ? null : $"the denied name answered {(int)response.StatusCode}";
            }

            var head = await ExchangeHeadAsync($"CONNECT {DeniedHost}:{_origin.TlsPort} HTTP/1.1\r\nHost: {DeniedHost}:{_origin.TlsPort}\r\n\r\n", token);
            return head.StartsWith("HTTP/1.1 403 ", StringComparison.Ordinal) ? null : $"CONNECT to the denied name answered '{head}'";
        }

        public async Task<string?> MalformedAsync(int n, CancellationToken token)
        {
            var input = _malformed[n % _malformed.Length];
            _counters.BadInput();
            var head = await ExchangeHeadAsync(input, token);
            // 400, 414 or 431, from the proxy or from Kestrel's parser; never a forwarded answer or a 5xx.
            return head.StartsWith("HTTP/1.1 4", StringComparison.Ordinal) ? null : $"input {n % _malformed.Length} was answered '{head}'";
        }

        /// <summary>Clients that vanish mid-exchange with a reset: during a download, an upload, and a TLS tunnel.</summary>
        public async Task<string?> VanishAsync(int n, CancellationToken token)
        {
            _counters.Fault();
            switch (n % 3)
            {
                case 0:
                {
                    using var socket = await ConnectAsync(token);
                    await socket.SendAsync(Encoding.ASCII.GetBytes($"GET http://{AllowedHost}:{_origin.Port}/bytes/{4 * LargeBody} HTTP/1.1\r\nHost: {AllowedHost}\r\n\r\n"), token);
                    var received = 0;
                    var buffer = new byte[16 * 1024];
                    while (received < 64 * 1024)
                    {
                        var read = await socket.ReceiveAsync(buffer, token);
                        if (read == 0)
                        {
                            return $"the download ended after {received} bytes";
                        }

                        received += read;
                    }

                    Reset(socket);
                    return null;
                }

                case 1:
                {
                    using var socket = await ConnectAsync(token);
                    await socket.SendAsync(Encoding.ASCII.GetBytes($"POST http://{AllowedHost}:{_origin.Port}/upload HTTP/1.1\r\nHost: {AllowedHost}\r\nContent-Length: {LargeBody}\r\n\r\n"), token);
                    await socket.SendAsync(new byte[64 * 1024], token);
                    Reset(socket);
                    return null;
                }

                default:
                {
                    await using var tunnel = await TlsTunnelClient.OpenAsync(_proxy, AllowedHost, _origin.TlsPort, token);
                    var head = await tunnel.SendAndReadHeadAsync($"/bytes/{4 * LargeBody}", token);
                    tunnel.Abort();
                    return head.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal) ? null : $"the tunnelled download answered '{head}'";
                }
            }
        }

        private async Task<string> ExchangeHeadAsync(string request, CancellationToken token)
        {
            using var socket = await ConnectAsync(token);
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), token);
            var head = new StringBuilder();
            var buffer = new byte[4096];
            while (head.ToString().IndexOf("\r\n", StringComparison.Ordinal) is var end && end < 0)
            {
                var read = await socket.ReceiveAsync(buffer, token);
                if (read == 0)
                {
                    return head.Length == 0 ? "(closed without an answer)" : head.ToString();
                }

                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            return head.ToString()[..head.ToString().IndexOf("\r\n", StringComparison.Ordinal)] + " ";
        }

        private async Task<Socket> ConnectAsync(CancellationToken token)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(_proxy, token);
                return socket;
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                throw;
            }
        }

        private static void Reset(Socket socket) => socket.LingerState = new LingerOption(true, 0);

        private static string? CheckPattern(HttpStatusCode status, byte[] body, int size)
        {
            if (status != HttpStatusCode.OK || body.Length != size)
            {
                return $"{(int)status} with {body.Length} bytes (expected 200 with {size})";
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

        private HttpClient Client(bool trustTestCa)
        {
            var handler = new SocketsHttpHandler
            {
                Proxy = new WebProxy($"http://{_proxy}"),
                UseProxy = true,
                AllowAutoRedirect = false,
                UseCookies = false,
            };
            if (trustTestCa)
            {
                handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    TestCertificates.Validate(certificate as System.Security.Cryptography.X509Certificates.X509Certificate2);
            }

            return new HttpClient(handler) { Timeout = RequestTimeout };
        }

        public void Dispose()
        {
            _plain.Dispose();
            _tls.Dispose();
        }
    }
}
