using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.ProxyInstance.Tests.Forwarding;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Robustness;

/// <summary>
/// Faults on both sides of the proxy, one at a time: an origin that refuses, resets, stays silent, answers
/// garbage or stops in the middle of a body; a resolver that fails or never answers; a client that vanishes.
/// Each must end in the right status or a clean close, with the access log saying what happened, and the proxy
/// must let go of the upstream connection.
/// </summary>
public sealed class FaultTests : RobustnessTest
{
    /// <summary>How long any one outcome may take: far above the one-second timeouts the proxy runs with here.</summary>
    internal static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    internal const string HangingName = "dns-hangs.example.com";
    internal const string LateName = "dns-fails-late.example.com";
    internal const string BrokenName = "dns-broken.example.com";

    private static readonly byte[] Established = "HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray();

    /// <summary>Short timeouts so that every fault resolves quickly, the JSON access log for its detail field, no SNI check.</summary>
    internal static JsonObject FaultConfig(int port, int[]? morePorts = null, TimeSpan? upstreamResponse = null) =>
        ProxyServer.Config(ProxyServer.AllowAll(port, morePorts ?? []), customize: p =>
        {
            p["Timeouts"] = new JsonObject
            {
                ["Connect"] = "00:00:03",
                ["Dns"] = "00:00:01",
                ["UpstreamResponse"] = (upstreamResponse ?? TimeSpan.FromSeconds(1)).ToString("c", CultureInfo.InvariantCulture),
                ["ClientHello"] = "00:00:05",
            };
            p["AccessLog"] = new JsonObject { ["Format"] = "json" };
            p["Policy"]!["RequireSniMatch"] = "Off";
        });

    internal static string Get(string host, int port) =>
        $"GET http://{host}:{port}/fault HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n";

    public static TheoryData<string, int, string> BeforeAnswering => new()
    {
        { "refused", 502, "ERR_CONNECT_FAIL" },
        { "reset", 502, "ERR_UPSTREAM_FAIL" },
        { "silent", 504, "ERR_UPSTREAM_TIMEOUT" },
    };

    [Theory]
    [MemberData(nameof(BeforeAnswering))]
    public async Task Get_OriginFailsBeforeAnswering_ReturnsErrorStatusAndLogsIt(string fault, int status, string code)
    {
        await using var origin = fault == "reset" ? FaultOrigin.ResetBeforeAnswer() : FaultOrigin.Silent();
        var port = fault == "refused" ? PlainHttpTests.UnusedPort() : origin.Port;
        await using var proxy = await ProxyServer.StartAsync(FaultConfig(port), new TestNetwork());
        RobustnessLedger.Requests();
        RobustnessLedger.Faults();

        var response = await ExchangeAsync(proxy, Get("www.example.com", port));

        Assert.StartsWith($"HTTP/1.1 {status} ", response, StringComparison.Ordinal);
        Assert.Contains($"X-Proxy-Error: {code}\r\n", response, StringComparison.Ordinal);
        var entry = await LogEntryAsync(proxy);
        Assert.Equal($"TCP_MISS/{status}", entry.GetProperty("result").GetString());
        Assert.Equal(code, entry.GetProperty("error").GetString());
        Assert.Equal("127.0.0.1", entry.GetProperty("upstream").GetString());
        if (fault == "silent")
        {
            await origin.WaitForClosedByPeerAsync(1, Bound);
        }
    }

    /// <summary>
    /// Answers no HTTP client may accept: another protocol's banner, a bad status line, a field line without a
    /// colon, conflicting or negative Content-Length (RFC 9112 §6.3: a proxy must answer 502), a NUL flood, a
    /// version that does not exist.
    /// </summary>
    public static TheoryData<string> GarbageAnswers => new()
    {
        "SSH-2.0-OpenSSH_9.6\r\n",
        "HTTP/1.1 abc Nope\r\n\r\n",
        "HTTP/1.1 200 OK\r\nThis is no header\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "\0\0\0\0\0\0\0\0\r\n\r\n",
        "HTTP/9.9 200 OK\r\n\r\n",
    };

    [Theory]
    [MemberData(nameof(GarbageAnswers))]
    public async Task Get_OriginAnswersGarbage_Returns502AndClosesTheUpstream(string garbage)
    {
        await using var origin = FaultOrigin.Garbage(Encoding.ASCII.GetBytes(garbage));
        await using var proxy = await ProxyServer.StartAsync(FaultConfig(origin.Port), new TestNetwork());
        RobustnessLedger.Requests();
        RobustnessLedger.Faults();

        var response = await ExchangeAsync(proxy, Get("www.example.com", origin.Port));

        Assert.StartsWith("HTTP/1.1 502 ", response, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_UPSTREAM_FAIL\r\n", response, StringComparison.Ordinal);
        var entry = await LogEntryAsync(proxy);
        Assert.Equal("TCP_MISS/502", entry.GetProperty("result").GetString());
        Assert.Equal("ERR_UPSTREAM_FAIL", entry.GetProperty("error").GetString());
        await origin.WaitForClosedByPeerAsync(1, Bound);
    }

    [Theory]
    [InlineData("reset", BodyFraming.ContentLength, "ERR_UPSTREAM_FAIL")]
    [InlineData("reset", BodyFraming.Chunked, "ERR_UPSTREAM_FAIL")]
    [InlineData("reset", BodyFraming.CloseDelimited, "ERR_UPSTREAM_FAIL")]
    [InlineData("stall", BodyFraming.ContentLength, "ERR_UPSTREAM_TIMEOUT")]
    [InlineData("stall", BodyFraming.Chunked, "ERR_UPSTREAM_TIMEOUT")]
    [InlineData("stall", BodyFraming.CloseDelimited, "ERR_UPSTREAM_TIMEOUT")]
    public async Task Get_OriginFailsMidBody_ClientConnectionEndsBeforeTheBodyIsComplete(string fault, BodyFraming framing, string code)
    {
        await using var origin = fault == "reset" ? FaultOrigin.ResetMidBody(framing) : FaultOrigin.StallMidBody(framing);
        await using var proxy = await ProxyServer.StartAsync(FaultConfig(origin.Port), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        RobustnessLedger.Requests();
        RobustnessLedger.Faults();

        await raw.SendAsync(Get("www.example.com", origin.Port));
        var (response, reset) = await ReadUntilClosedAsync(raw.Stream);

        AssertCutShort(response, reset);

        var entry = await LogEntryAsync(proxy);
        Assert.Equal("TCP_MISS/200", entry.GetProperty("result").GetString());
        Assert.Equal(code, entry.GetProperty("error").GetString());
        Assert.InRange(entry.GetProperty("bytes_down").GetInt64(), 0, FaultOrigin.SentLength);
        if (fault == "stall")
        {
            await origin.WaitForClosedByPeerAsync(1, Bound);
        }
    }

    [Fact]
    public async Task Get_ClientVanishesWhileTheOriginIsSilent_ProxyClosesTheUpstream()
    {
        await using var origin = FaultOrigin.Silent();
        var config = FaultConfig(origin.Port, upstreamResponse: TimeSpan.FromSeconds(60));
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        RobustnessLedger.Requests();
        RobustnessLedger.Faults();

        // The client leaves once the request is at the origin: leaving while the upstream connection is still
        // being opened only puts a fresh idle connection in the pool, which is no fault.
        await raw.SendAsync(Get("www.example.com", origin.Port));
        await WaitUntilAsync(() => origin.Requests == 1, "the request never reached the origin");
        Reset(raw.Client.Client);

        await origin.WaitForClosedByPeerAsync(1, Bound);
        var entry = await LogEntryAsync(proxy);
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("error").ValueKind);
        Assert.Equal("client went away", entry.GetProperty("detail").GetString());

        // The client got nothing: no status, no bytes, as Squid logs it.
        Assert.Equal("TCP_MISS_ABORTED/000", entry.GetProperty("result").GetString());
        Assert.Equal(0, entry.GetProperty("status").GetInt32());
        Assert.Equal(0, entry.GetProperty("bytes_down").GetInt64());
    }

    [Theory]
    [InlineData(false, SocketError.HostNotFound, "no such name")]
    [InlineData(false, SocketError.TryAgain, "the DNS server did not answer")]
    [InlineData(false, SocketError.NoRecovery, "NoRecovery")]
    [InlineData(true, SocketError.HostNotFound, "no such name")]
    [InlineData(true, SocketError.TryAgain, "the DNS server did not answer")]
    [InlineData(true, SocketError.NoRecovery, "NoRecovery")]
    public async Task Request_ResolverThrows_Returns502DnsFailure(bool tunnel, SocketError error, string detail)
    {
        var network = new TestNetwork().MapFailing(BrokenName, error);
        await using var proxy = await ProxyServer.StartAsync(FaultConfig(443), network);
        RobustnessLedger.Requests();
        RobustnessLedger.Faults();

        var response = await ExchangeAsync(proxy, tunnel ? $"CONNECT {BrokenName}:443 HTTP/1.1\r\n\r\n" : Get(BrokenName, 443));

        Assert.StartsWith("HTTP/1.1 502 ", response, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_DNS_FAIL\r\n", response, StringComparison.Ordinal);
        var target = tunnel ? $"{BrokenName}:443" : $"http://{BrokenName}:443/fault";
        Assert.Contains($"Cannot resolve {target}: {detail}.", response, StringComparison.Ordinal);
        var entry = await LogEntryAsync(proxy);
        Assert.Equal(tunnel ? "TCP_TUNNEL/502" : "TCP_MISS/502", entry.GetProperty("result").GetString());
        Assert.Equal("ERR_DNS_FAIL", entry.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("upstream").ValueKind);
        Assert.Equal(1, network.Lookups[BrokenName]);
        Assert.Empty(network.Dialled);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task Request_ResolverNeverAnswers_Returns504DnsTimeout(bool tunnel, bool failsLater)
    {
        // The upstream response timeout is set far above the DNS one, so a 504 can only come from the DNS timer.
        var name = failsLater ? LateName : HangingName;
        var network = new TestNetwork().MapHanging(name, failsLater ? TimeSpan.FromSeconds(2) : null);
        await using var proxy = await ProxyServer.StartAsync(FaultConfig(443, upstreamResponse: TimeSpan.FromSeconds(60)), network);
        RobustnessLedger.Requests();
        RobustnessLedger.Faults();

        var response = await ExchangeAsync(proxy, tunnel ? $"CONNECT {name}:443 HTTP/1.1\r\n\r\n" : Get(name, 443));

        Assert.StartsWith("HTTP/1.1 504 ", response, StringComparison.Ordinal);
        Assert.Contains("X-Proxy-Error: ERR_DNS_TIMEOUT\r\n", response, StringComparison.Ordinal);
        var entry = await LogEntryAsync(proxy);
        Assert.Equal(tunnel ? "TCP_TUNNEL/504" : "TCP_MISS/504", entry.GetProperty("result").GetString());
        Assert.Equal("ERR_DNS_TIMEOUT", entry.GetProperty("error").GetString());
        Assert.Empty(network.Dialled);
    }

    [Fact]
    public async Task Tunnel_OriginResetsMidTunnel_ClientSideIsClosed()
    {
        await using var origin = FaultOrigin.ResetMidTunnel();
        await using var proxy = await ProxyServer.StartAsync(FaultConfig(origin.Port), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        RobustnessLedger.Requests();
        RobustnessLedger.Faults();

        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n");
        Assert.Equal(Encoding.ASCII.GetString(Established), await raw.ReadHeadAsync());
        await raw.SendAsync("ping");
        var (data, _) = await ReadUntilClosedAsync(raw.Stream);

        Assert.Equal("pong", Encoding.ASCII.GetString(data));
        var entry = await LogEntryAsync(proxy);
        Assert.Equal("TCP_TUNNEL/200", entry.GetProperty("result").GetString());
        Assert.Equal("UpstreamFailed", entry.GetProperty("detail").GetString());
        Assert.Equal(4, entry.GetProperty("bytes_up").GetInt64());
        Assert.Equal(Established.Length + 4, entry.GetProperty("bytes_down").GetInt64());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Tunnel_ClientVanishes_ProxyClosesTheUpstreamPromptly(bool originSending)
    {
        await using var origin = originSending ? FaultOrigin.Flood() : FaultOrigin.Echo();
        await using var proxy = await ProxyServer.StartAsync(FaultConfig(origin.Port), new TestNetwork());
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        RobustnessLedger.Requests();
        RobustnessLedger.Faults();

        await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n");
        Assert.Equal(Encoding.ASCII.GetString(Established), await raw.ReadHeadAsync());
        if (originSending)
        {
            await raw.ReadExactlyAsync(64 * 1024);
        }
        else
        {
            await raw.SendAsync("ping");
            Assert.Equal("ping", Encoding.ASCII.GetString(await raw.ReadExactlyAsync(4)));
        }

        Reset(raw.Client.Client);

        await origin.WaitForClosedByPeerAsync(1, Bound);
        var entry = await LogEntryAsync(proxy);
        Assert.Equal("TCP_TUNNEL/200", entry.GetProperty("result").GetString());
        Assert.Equal("ClientFailed", entry.GetProperty("detail").GetString());
    }

    /// <summary>Sends <paramref name="request"/> on a new connection and returns everything until the proxy closes it.</summary>
    internal static async Task<string> ExchangeAsync(ProxyServer proxy, string request)
    {
        await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
        await raw.SendAsync(request);
        var (data, _) = await ReadUntilClosedAsync(raw.Stream);
        return Encoding.ASCII.GetString(data);
    }

    /// <summary>Reads until the peer closes or resets the connection, failing the test if it is still open after <see cref="Bound"/>.</summary>
    internal static async Task<(byte[] Data, bool Reset)> ReadUntilClosedAsync(NetworkStream stream)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(Bound);
        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }

            return (received.ToArray(), false);
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            return (received.ToArray(), true);
        }
        catch (OperationCanceledException) when (!Token.IsCancellationRequested)
        {
            Assert.Fail($"the connection was still open after {Bound}, having delivered {received.Length} bytes");
            throw;
        }
    }

    /// <summary>Closes with RST, as a client that crashes or loses its network does.</summary>
    internal static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(20, Token);
        }
    }

    private static async Task<JsonElement> LogEntryAsync(ProxyServer proxy)
    {
        var line = Assert.Single(await proxy.AccessLogLinesAsync(1));
        using var entry = JsonDocument.Parse(line);
        return entry.RootElement.Clone();
    }

    /// <summary>
    /// Asserts that a response whose origin failed mid-body reached the client cut short. The status line has
    /// gone out, so the only honest signal left is to end the connection before the message is complete by its
    /// own framing: the response must declare a framing the client can check, and fall short of it. An abort may
    /// also overtake a head still in the proxy's buffers, so nothing at all, ended by a reset, is as good.
    /// </summary>
    internal static void AssertCutShort(byte[] response, bool reset)
    {
        if (response.Length == 0)
        {
            Assert.True(reset, "the connection closed cleanly without a response");
            return;
        }

        var headLength = response.AsSpan().IndexOf("\r\n\r\n"u8);
        Assert.True(headLength > 0, "the connection ended inside the response head");
        var head = Encoding.ASCII.GetString(response, 0, headLength);
        var body = response[(headLength + 4)..];
        Assert.StartsWith("HTTP/1.1 200 ", head, StringComparison.Ordinal);
        var fields = head.Split("\r\n").Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        if (fields.TryGetValue("Content-Length", out var length))
        {
            Assert.True(body.Length < long.Parse(length, CultureInfo.InvariantCulture), $"all {length} declared bytes arrived");
            return;
        }

        Assert.True(fields.TryGetValue("Transfer-Encoding", out var coding) && coding.Equals("chunked", StringComparison.OrdinalIgnoreCase),
            $"the response has no framing, so the client cannot tell a truncated body:\n{head}");
        Assert.False(HasLastChunk(body), "the chunked body ended with its last chunk, so it looks complete");
    }

    /// <summary>Walks a chunked body (RFC 9112 §7.1) and says whether its zero-length last chunk arrived.</summary>
    private static bool HasLastChunk(byte[] body)
    {
        var offset = 0;
        while (true)
        {
            var lineEnd = body.AsSpan(offset).IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                return false;
            }

            var sizeText = Encoding.ASCII.GetString(body, offset, lineEnd).Split(';')[0];
            var size = int.Parse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                return true;
            }

            offset += lineEnd + 2 + size + 2;
            if (offset > body.Length)
            {
                return false;
            }
        }
    }
}

/// <summary>
/// Many faults of every kind at once, with the process-wide accounting a single fault cannot give: the open file
/// count returns to its baseline (no socket leaked) and no task exception goes unobserved. The proxy runs in this
/// process, not as its own (ProxyProcess), because the DNS faults need the test resolver and an unobserved task
/// exception is only seen in the process that raised it. Both counts are for the whole process, so these tests
/// run in a collection of their own, never beside other tests.
/// </summary>
[Collection(Name)]
public sealed class FaultAccountingTests : RobustnessTest
{
    public const string Name = "process-wide accounting";

    private const int Rounds = 5;
    private const long NoCollectionBudget = 64L * 1024 * 1024;

    [Fact]
    public async Task Faults_ManyOfEveryKind_LeaveNoOpenFilesAndNoUnobservedTaskExceptions()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "open files are counted in /proc/self/fd");
        await using var faults = await FaultBatch.StartAsync();

        // One round first, so that what the runtime opens once (JIT, pools, engine threads) is in the baseline.
        await faults.RunRoundAsync();
        await faults.WaitUntilSettledAsync(rounds: 1);
        FlushFinalizers();
        var baseline = await StableOpenFileCountAsync();
        var baselineFiles = OpenFiles();

        var unobserved = new ConcurrentQueue<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => unobserved.Enqueue(e.Exception);
        TaskScheduler.UnobservedTaskException += OnUnobserved;

        // No collection until the files are counted: a leaked socket that nothing references is closed by its
        // finalizer at the next collection, which would hide the leak. The batch allocates about ten megabytes.
        Assert.True(GC.TryStartNoGCRegion(NoCollectionBudget), "could not hold off garbage collection");
        try
        {
            await Task.WhenAll(Enumerable.Range(0, Rounds).Select(_ => faults.RunRoundAsync()));
            await faults.WaitUntilSettledAsync(rounds: Rounds + 1);

            var deadline = DateTime.UtcNow + FaultTests.Bound;
            var open = OpenFiles().Count;
            while (open > baseline && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, Token);
                open = OpenFiles().Count;
            }

            Assert.True(GCSettings.LatencyMode == GCLatencyMode.NoGCRegion,
                $"the batch allocated more than {NoCollectionBudget} bytes, so a collection ran and could have closed a leaked socket");
            Assert.True(open <= baseline,
                $"{open} files open after {Rounds} rounds of faults, {baseline} before; opened since:\n{Describe(OpenFiles().Except(baselineFiles))}");
            GC.EndNoGCRegion();
            FlushFinalizers();
            Assert.True(unobserved.IsEmpty, "unobserved task exceptions:\n" + string.Join("\n---\n", unobserved));
        }
        finally
        {
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            {
                GC.EndNoGCRegion();
            }

            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }
    }

    private static void FlushFinalizers()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>
    /// What the open file descriptors point at (<c>socket:[inode]</c>, <c>pipe:[inode]</c>, a path), less the
    /// assemblies and symbol files the runtime opens when code or a stack trace first needs them: it keeps those
    /// open for the life of the process, and one first needed mid-batch is no leak.
    /// </summary>
    private static List<string> OpenFiles()
    {
        var targets = new List<string>();
        foreach (var fd in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target
                    && !target.EndsWith(".dll", StringComparison.Ordinal) && !target.EndsWith(".pdb", StringComparison.Ordinal))
                {
                    targets.Add(target);
                }
            }
            catch (IOException)
            {
                // Closed between the listing and the read: not open any more.
            }
        }

        return targets;
    }

    /// <summary>Names each file, with a socket's TCP endpoints and state from /proc/net/tcp, so a failure says what leaked.</summary>
    private static string Describe(IEnumerable<string> files)
    {
        var tcp = File.ReadAllLines("/proc/self/net/tcp").Skip(1).Concat(File.ReadAllLines("/proc/self/net/tcp6").Skip(1))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 9)
            .GroupBy(f => $"socket:[{f[9]}]")
            .ToDictionary(g => g.Key, g => g.First());
        return string.Join("\n", files.Select(file => tcp.TryGetValue(file, out var f)
            ? $"{file} {Endpoint(f[1])} -> {Endpoint(f[2])} state {f[3]}"
            : file));

        static string Endpoint(string hex)
        {
            var parts = hex.Split(':');
            var port = int.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            return parts[0].Length == 8
                ? $"{new IPAddress(BitConverter.GetBytes(uint.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture)))}:{port}"
                : $"[{parts[0]}]:{port}";
        }
    }

    /// <summary>The open file count once two readings a moment apart agree (another test's teardown may still be closing things).</summary>
    private static async Task<int> StableOpenFileCountAsync()
    {
        var previous = OpenFiles().Count;
        for (var i = 0; i < 50; i++)
        {
            await Task.Delay(200, Token);
            var current = OpenFiles().Count;
            if (current == previous)
            {
                return current;
            }

            previous = current;
        }

        return previous;
    }
}

[CollectionDefinition(FaultAccountingTests.Name, DisableParallelization = true)]
public sealed class ProcessWideAccounting;

/// <summary>One origin per fault kind and a proxy in front of them; a round commits every fault once, concurrently.</summary>
internal sealed class FaultBatch : IAsyncDisposable
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private readonly FaultOrigin _reset = FaultOrigin.ResetBeforeAnswer();
    private readonly FaultOrigin _silent = FaultOrigin.Silent();
    private readonly FaultOrigin _garbage = FaultOrigin.Garbage("SSH-2.0-OpenSSH_9.6\r\n"u8.ToArray());
    private readonly FaultOrigin _resetMidBody = FaultOrigin.ResetMidBody(BodyFraming.ContentLength);
    private readonly FaultOrigin _stallMidBody = FaultOrigin.StallMidBody(BodyFraming.Chunked);
    private readonly FaultOrigin _resetMidTunnel = FaultOrigin.ResetMidTunnel();
    private readonly FaultOrigin _echo = FaultOrigin.Echo();
    private readonly FaultOrigin _flood = FaultOrigin.Flood();
    private readonly int _refusedPort = PlainHttpTests.UnusedPort();
    private readonly TestNetwork _network = new TestNetwork()
        .MapFailing(FaultTests.BrokenName, SocketError.HostNotFound)
        .MapHanging(FaultTests.HangingName)
        .MapHanging(FaultTests.LateName, TimeSpan.FromSeconds(2));

    private ProxyServer? _proxy;

    private FaultOrigin[] Origins => [_reset, _silent, _garbage, _resetMidBody, _stallMidBody, _resetMidTunnel, _echo, _flood];

    /// <summary>The origins that hold every connection until the proxy closes it.</summary>
    private FaultOrigin[] Holding => [_silent, _garbage, _stallMidBody, _echo, _flood];

    public static async Task<FaultBatch> StartAsync()
    {
        var batch = new FaultBatch();
        var ports = batch.Origins.Select(o => o.Port).Append(batch._refusedPort).ToArray();
        // The upstream timeout stays clear of the DNS one, so a hanging lookup is always answered by the DNS timer.
        var config = FaultTests.FaultConfig(443, ports, upstreamResponse: TimeSpan.FromSeconds(3));
        batch._proxy = await ProxyServer.StartAsync(config, batch._network);
        return batch;
    }

    /// <summary>Commits every fault once, all at the same time, and checks what each client saw.</summary>
    public async Task RunRoundAsync()
    {
        var proxy = _proxy!;
        Task[] faults =
        [
            ExpectAsync(FaultTests.Get("www.example.com", _refusedPort), "HTTP/1.1 502 ", "ERR_CONNECT_FAIL"),
            ExpectAsync(FaultTests.Get("www.example.com", _reset.Port), "HTTP/1.1 502 ", "ERR_UPSTREAM_FAIL"),
            ExpectAsync(FaultTests.Get("www.example.com", _silent.Port), "HTTP/1.1 504 ", "ERR_UPSTREAM_TIMEOUT"),
            ExpectAsync(FaultTests.Get("www.example.com", _garbage.Port), "HTTP/1.1 502 ", "ERR_UPSTREAM_FAIL"),
            ExpectTruncatedAsync(_resetMidBody.Port),
            ExpectTruncatedAsync(_stallMidBody.Port),
            ExpectAsync(FaultTests.Get(FaultTests.BrokenName, 443), "HTTP/1.1 502 ", "ERR_DNS_FAIL"),
            ExpectAsync(FaultTests.Get(FaultTests.HangingName, 443), "HTTP/1.1 504 ", "ERR_DNS_TIMEOUT"),
            ExpectAsync($"CONNECT {FaultTests.LateName}:443 HTTP/1.1\r\n\r\n", "HTTP/1.1 504 ", "ERR_DNS_TIMEOUT"),
            ExpectAsync($"CONNECT www.example.com:{_refusedPort} HTTP/1.1\r\n\r\n", "HTTP/1.1 502 ", "ERR_CONNECT_FAIL"),
            TunnelResetAsync(),
            TunnelVanishAsync(_echo, originSending: false),
            TunnelVanishAsync(_flood, originSending: true),
        ];
        RobustnessLedger.Requests(faults.Length);
        RobustnessLedger.Faults(faults.Length);
        await Task.WhenAll(faults).WaitAsync(FaultTests.Bound * 2, Token);

        async Task ExpectAsync(string request, string status, string code)
        {
            var response = await FaultTests.ExchangeAsync(proxy, request);
            Assert.StartsWith(status, response, StringComparison.Ordinal);
            Assert.Contains($"X-Proxy-Error: {code}\r\n", response, StringComparison.Ordinal);
        }

        async Task ExpectTruncatedAsync(int port)
        {
            await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
            await raw.SendAsync(FaultTests.Get("www.example.com", port));
            var (response, reset) = await FaultTests.ReadUntilClosedAsync(raw.Stream);
            FaultTests.AssertCutShort(response, reset);
        }

        async Task TunnelResetAsync()
        {
            await using var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
            await raw.SendAsync($"CONNECT www.example.com:{_resetMidTunnel.Port} HTTP/1.1\r\n\r\nping");
            Assert.StartsWith("HTTP/1.1 200 ", await raw.ReadHeadAsync(), StringComparison.Ordinal);
            await FaultTests.ReadUntilClosedAsync(raw.Stream);
        }

        async Task TunnelVanishAsync(FaultOrigin origin, bool originSending)
        {
            var raw = await RawClient.ConnectAsync(proxy.ProxyEndPoint);
            await using (raw)
            {
                await raw.SendAsync($"CONNECT www.example.com:{origin.Port} HTTP/1.1\r\n\r\n");
                Assert.StartsWith("HTTP/1.1 200 ", await raw.ReadHeadAsync(), StringComparison.Ordinal);
                if (originSending)
                {
                    await raw.ReadExactlyAsync(16 * 1024);
                }
                else
                {
                    await raw.SendAsync("ping");
                    await raw.ReadExactlyAsync(4);
                }

                FaultTests.Reset(raw.Client.Client);
            }
        }
    }

    /// <summary>Waits until the proxy has closed every connection the holding origins accepted and every late DNS failure has happened.</summary>
    public async Task WaitUntilSettledAsync(int rounds)
    {
        foreach (var origin in Holding)
        {
            await origin.WaitForClosedByPeerAsync(rounds, FaultTests.Bound);
        }

        await FaultTests.WaitUntilAsync(() => _network.LateFailures >= rounds, "the late DNS failures did not happen");
    }

    public async ValueTask DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        foreach (var origin in Origins)
        {
            await origin.DisposeAsync();
        }
    }
}
