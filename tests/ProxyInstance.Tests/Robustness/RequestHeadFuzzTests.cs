using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Robustness;

/// <summary>
/// A short live fuzz of plain-HTTP request heads against a running proxy: mutations of valid proxy requests, each on
/// a fresh connection. Every exchange must end in bounded time with a well-formed status line that is not 500 (nor a
/// forwarding failure, as the origin is healthy), or a close; the origin must never receive a request whose framing
/// contradicts itself; and the proxy must still serve a valid request at the end. Like the parser fuzz, a failure
/// prints the run's seed and the input; EGRESS_FUZZ_SEED=N replays a run and EGRESS_FUZZ_SECONDS sets its budget
/// (the default is 5 s, and at most 5000 inputs).
/// </summary>
public sealed partial class RequestHeadFuzzTests : RobustnessTest
{
    private const int MaxInputs = 5000;
    private const int Concurrency = 16;

    // Long enough for a valid request's answer on a busy machine; an exchange still undecided then is half-closed,
    // which ends an unfinished head or body at once instead of after the header timeout.
    private static readonly TimeSpan AnswerWait = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan ExchangeLimit = TimeSpan.FromSeconds(15);

    private static readonly string[] Seeds =
    [
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n",
        "POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
        "POST {target} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "PUT {target} HTTP/1.0\r\nHost: {host}\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc",
        "HEAD {target} HTTP/1.1\r\nHost: {host}\r\nProxy-Connection: keep-alive\r\n\r\n",
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\n\r\n",
    ];

    private static readonly byte[] InterestingBytes = "\r\n\0 \t:,;=\"\\/-+0189aAfF\x7f\xff"u8.ToArray();

    // Fragments spliced in anywhere, and whole field lines spliced in at line starts: the framing combinations that
    // smuggling needs, oversized numbers, folds and stray line ends.
    private static readonly string[] Fragments =
    [
        "\r\n", "\n", "\r", "\0", " ", "\t", ":", "99999999999999999999", "-1", "+5", ", ", "chunked", "0x10",
        "\r\n ", "\r\n\r\n", "FFFFFFFFFFFFFFFFFFFF\r\n", "0\r\n\r\n", "5\r\nhello\r\n",
        "GET http://www.example.com/ HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
    ];

    private static readonly string[] FieldLines =
    [
        "Content-Length: 0\r\n", "Content-Length: 5\r\n", "Content-Length: 1, 2\r\n", "Content-Length: 99999999999999999999\r\n",
        "Content-Length : 5\r\n", "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: gzip, chunked\r\n", "Transfer-Encoding: chunked, gzip\r\n",
        "Transfer-Encoding: xchunked\r\n", "Transfer-Encoding:\tchunked\r\n", "Transfer-Encoding: \"chunked\"\r\n", " Transfer-Encoding: chunked\r\n",
        "X-Content-Length: 5\r\n", "Host: evil.example.net\r\n", "Connection: close\r\n", "Connection: Content-Length\r\n",
        "Expect: 100-continue\r\n", "X-Folded: a\r\n b\r\n",
    ];

    [Fact]
    public async Task PlainHeads_Mutated_EndWellFormedOrClosedAndNeverReachTheOriginContradictory()
    {
        var seed = Fuzzing.FuzzRun.Seed();
        var budget = Fuzzing.FuzzRun.Budget();
        await using var origin = await OriginServer.StartAsync();
        var config = ProxyServer.Config(ProxyServer.AllowAll(origin.Port), customize: p =>
        {
            p["Limits"] = new JsonObject { ["MaxRequestHeadBytes"] = 16 * 1024 };
            p["Timeouts"]!["RequestHeaders"] = "00:00:05";
            p["Timeouts"]!["RequestBody"] = "00:00:05";
        });
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());
        var authority = $"www.example.com:{origin.Port}";
        var clock = Stopwatch.StartNew();
        var next = -1;
        var count = 0;
        var answered = 0;
        var failures = new ConcurrentQueue<(int Index, string Failure, byte[] Input)>();

        // Workers share one numbered stream of inputs; input i comes from its own generator seeded from the run's
        // seed and i, so a replay produces the same inputs whatever order the workers take them in.
        async Task WorkAsync()
        {
            while (failures.IsEmpty && clock.Elapsed < budget)
            {
                var index = Interlocked.Increment(ref next);
                if (index >= MaxInputs)
                {
                    return;
                }

                var input = Mutate(new Random(unchecked(seed + (index * 7919))), authority);
                var (failure, gotAnswer) = await ExchangeAsync(proxy.ProxyEndPoint, input);
                if (failure is not null)
                {
                    failures.Enqueue((index, failure, input));
                    return;
                }

                Interlocked.Increment(ref count);
                if (gotAnswer)
                {
                    Interlocked.Increment(ref answered);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => WorkAsync()));
        if (failures.OrderBy(f => f.Index).FirstOrDefault() is { Failure: not null } first)
        {
            Assert.Fail($"input {first.Index} of seed {seed} (replay with EGRESS_FUZZ_SEED={seed}): {first.Failure}\ninput: {Fuzzing.FuzzRun.Escape(first.Input)}");
        }

        RobustnessLedger.BadInputs(count);
        foreach (var headers in origin.RequestHeaders)
        {
            var framing = string.Join(" | ", headers.Where(h => h.Key.Contains("Length", StringComparison.OrdinalIgnoreCase) || h.Key.Contains("Encoding", StringComparison.OrdinalIgnoreCase)).Select(h => $"{h.Key}: {h.Value}"));
            // The origin's Kestrel moves Content-Length aside to X-Content-Length when Transfer-Encoding is present, so
            // both framings sent upstream show as these two; the proxy refuses to forward the pair as well.
            Assert.False(headers.ContainsKey("Transfer-Encoding") && (headers.ContainsKey("Content-Length") || headers.ContainsKey("X-Content-Length")),
                $"seed {seed}: the origin received both framings: {framing}");
            Assert.True(!headers.ContainsKey("Transfer-Encoding") || headers["Transfer-Encoding"].ToString() == "chunked", $"seed {seed}: the origin received {framing}");
            Assert.True(!headers.ContainsKey("Content-Length") || headers["Content-Length"].ToString().All(char.IsAsciiDigit), $"seed {seed}: the origin received {framing}");
            Assert.Equal(authority, headers.Host.ToString());
        }

        // The proxy survived all of it.
        RobustnessLedger.Requests();
        using var client = proxy.CreateClient();
        using var response = await client.GetAsync($"http://{authority}/after-fuzz", Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        TestContext.Current.TestOutputHelper?.WriteLine($"fuzz plain request heads: seed {seed}, {count} inputs in {clock.Elapsed.TotalSeconds:0.#} s, {answered} answered, {count - answered} closed unanswered, {origin.RequestHeaders.Count} reached the origin, 0 failures");
        Assert.True(count > 0, $"the budget of {budget} ran no input at all");
    }

    /// <summary>Sends one input on a fresh connection; returns why the exchange broke a property (or null) and whether it was answered.</summary>
    private static async Task<(string? Failure, bool Answered)> ExchangeAsync(IPEndPoint proxy, byte[] input)
    {
        using var socket = new Socket(proxy.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Token);
        limit.CancelAfter(ExchangeLimit);
        var received = new List<byte>();
        try
        {
            await socket.ConnectAsync(proxy, limit.Token);
            try
            {
                await socket.SendAsync(input, SocketFlags.None, limit.Token);
            }
            catch (SocketException)
            {
                // Refused and closed before the whole input was sent: what was answered is still to be read.
            }

            var buffer = new byte[4096];
            var halfClosed = false;
            var answerBy = Stopwatch.StartNew();
            while (!HasCompleteHead(received))
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(limit.Token);
                if (!halfClosed)
                {
                    wait.CancelAfter(AnswerWait - answerBy.Elapsed is { Ticks: > 0 } left ? left : TimeSpan.Zero);
                }

                int read;
                try
                {
                    read = await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token);
                }
                catch (OperationCanceledException) when (!halfClosed && !limit.IsCancellationRequested)
                {
                    // Still undecided: end the request from the client side, as a client that gives up would.
                    socket.Shutdown(SocketShutdown.Send);
                    halfClosed = true;
                    continue;
                }

                if (read == 0)
                {
                    break;
                }

                received.AddRange(buffer.AsSpan(0, read));
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !Token.IsCancellationRequested)
        {
            return ($"neither an answer nor a close within {ExchangeLimit.TotalSeconds:0} s; received: {Fuzzing.FuzzRun.Escape([.. received])}", false);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
        {
            // A close with unread input resets: the proxy ended the exchange.
        }

        if (received.Count == 0)
        {
            return (null, false);
        }

        var text = Encoding.Latin1.GetString([.. received]);
        var statusLine = StatusLine().Match(text);
        if (!statusLine.Success)
        {
            return ($"the answer does not start with an HTTP/1.1 status line: {Fuzzing.FuzzRun.Escape([.. received])}", true);
        }

        if (statusLine.Groups[1].Value == "500")
        {
            return ($"answered 500: {Fuzzing.FuzzRun.Escape([.. received])}", true);
        }

        // The origin is healthy and answers whatever reaches it: a failure to forward is the proxy's own.
        return (text.Contains("\r\nX-Proxy-Error: ERR_UPSTREAM_FAIL\r\n", StringComparison.Ordinal) ? $"failed against a healthy origin: {Fuzzing.FuzzRun.Escape([.. received])}" : null, true);
    }

    private static bool HasCompleteHead(List<byte> received)
    {
        for (var i = 3; i < received.Count; i++)
        {
            if (received[i] == '\n' && received[i - 1] == '\r' && received[i - 2] == '\n' && received[i - 3] == '\r')
            {
                return true;
            }
        }

        return false;
    }

    private static byte[] Mutate(Random random, string authority)
    {
        var seed = Seeds[random.Next(Seeds.Length)]
            .Replace("{target}", $"http://{authority}/upload", StringComparison.Ordinal)
            .Replace("{host}", authority, StringComparison.Ordinal);
        var bytes = new List<byte>(Encoding.Latin1.GetBytes(seed));
        for (var n = random.Next(1, 5); n > 0; n--)
        {
            var at = random.Next(bytes.Count + 1);
            switch (random.Next(8))
            {
                case 0 when at < bytes.Count:
                    bytes[at] = InterestingBytes[random.Next(InterestingBytes.Length)];
                    break;
                case 1:
                    bytes.Insert(at, InterestingBytes[random.Next(InterestingBytes.Length)]);
                    break;
                case 2 when at < bytes.Count:
                    bytes.RemoveAt(at);
                    break;
                case 3:
                    bytes.InsertRange(at, Encoding.Latin1.GetBytes(Fragments[random.Next(Fragments.Length)]));
                    break;
                case 4:
                    bytes.InsertRange(LineStart(random, bytes), Encoding.Latin1.GetBytes(FieldLines[random.Next(FieldLines.Length)]));
                    break;
                case 5:
                    // Repeat a field line: duplicate Host, Content-Length, Transfer-Encoding...
                    var start = LineStart(random, bytes);
                    var end = IndexOf(bytes, "\r\n"u8, start);
                    if (end > start)
                    {
                        bytes.InsertRange(start, bytes.GetRange(start, end + 2 - start));
                    }

                    break;
                case 6 when at < bytes.Count:
                    // A run across the limits: the 8 KiB request line, the 16 KiB head.
                    bytes.InsertRange(at, Enumerable.Repeat(bytes[at], random.Next(2) == 0 ? random.Next(1, 64) : random.Next(8_000, 20_000)));
                    break;
                case 7 when at < bytes.Count:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>A random position just after a CRLF in the head (or its start), where a field line can go.</summary>
    private static int LineStart(Random random, List<byte> bytes)
    {
        var starts = new List<int>();
        for (var i = 1; i < bytes.Count; i++)
        {
            if (bytes[i] == '\n' && bytes[i - 1] == '\r')
            {
                starts.Add(i + 1);
                if (i >= 3 && bytes[i - 2] == '\n' && bytes[i - 3] == '\r')
                {
                    break;
                }
            }
        }

        return starts.Count == 0 ? 0 : starts[random.Next(starts.Count)];
    }

    private static int IndexOf(List<byte> bytes, ReadOnlySpan<byte> value, int from)
    {
        for (var i = from; i + value.Length <= bytes.Count; i++)
        {
            var match = true;
            for (var j = 0; j < value.Length && match; j++)
            {
                match = bytes[i + j] == value[j];
            }

            if (match)
            {
                return i;
            }
        }

        return -1;
    }

    [GeneratedRegex(@"\AHTTP/1\.1 ([1-5][0-9][0-9]) [^\r\n]*\r\n")]
    private static partial Regex StatusLine();
}
