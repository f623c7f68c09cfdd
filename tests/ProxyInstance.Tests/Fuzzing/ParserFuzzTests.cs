using System.Buffers;
using System.Globalization;
using System.Text;
using EgressLab.ProxyInstance.Policy;
using EgressLab.ProxyInstance.Tests.Tunnel;
using EgressLab.ProxyInstance.Tunnel;

namespace EgressLab.ProxyInstance.Tests.Fuzzing;

/// <summary>
/// Seeded, time-bounded fuzzing of the parsers and matchers that see untrusted input first: the CONNECT head parser,
/// the TLS ClientHello parser and the domain-pattern matcher. Inputs are mutations of valid ones (so they get deep) and
/// the checks are properties that must hold for every input: no exception, no hang, the same answer however the bytes
/// are split into reads, and the indexed matcher agreeing with the plain one. A failure prints the run's seed and the
/// input; EGRESS_FUZZ_SEED=N replays a run, EGRESS_FUZZ_SECONDS sets each target's budget (the default is 5).
/// </summary>
public sealed class ParserFuzzTests : Robustness.RobustnessTest
{
    private const int ConnectHeadLimit = 8192;
    private const int ClientHelloLimit = 16384;
    private static readonly TimeSpan HangMargin = TimeSpan.FromSeconds(30);

    private static readonly string[] ConnectSeeds =
    [
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "CONNECT api.example.com:8443 HTTP/1.0\r\n\r\n",
        "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\nUser-Agent: curl/8.5\r\n\r\n",
        "CONNECT 198.51.100.10:443 HTTP/1.1\r\nHost: 198.51.100.10:443\r\nProxy-Connection: keep-alive\r\n\r\n\x16\x03\x01\x00\x05hello",
    ];

    // The authorities the issue lists as bad, and good ones, spliced into heads whole.
    private static readonly string[] Authorities =
    [
        "host", "host:", ":443", "host:0", "host:65536", "host:+443", "2001:db8::1:443", "user:pw@host:443", "ho st:443",
        "host\u0001:443", "host:443 ", "[::1]:443", "[::1]", "[v1.x]:443", "example.com:443", "EXAMPLE.COM.:443",
        "xn--bcher-kva.example:443", "127.0.0.1:443", "0x7f.1:443", "host:0443", "host:4 43", "%68ost:443", "host:99999999999",
    ];

    private static readonly byte[] Interesting = "\r\n\0 \t:[]@%+-./\\\"'0123456789\x7f\xff"u8.ToArray();

    private static readonly string[] PatternPieces =
    [
        "example", "com", "a", "b", "xn--bcher-kva", "bücher", "*", ".", "-", "_", "EXAMPLE", "123", "..", "*.", "ex*ample",
        "a-b", "-a", "a-", "\u0130", "ß", "\u212A", " ", "", "com.", "1.2.3.4", "::1", "https://", ":443", new string('a', 63),
        new string('a', 64),
    ];

    private readonly ITestOutputHelper? _output = TestContext.Current.TestOutputHelper;

    [Fact]
    public async Task ConnectRequestParser_MutatedHeads_NeverThrowsHangsOrDependsOnReadBoundaries()
    {
        await FuzzAsync("CONNECT heads", (random, record) =>
        {
            var input = MutateConnectHead(random);
            record(input);
            var whole = ParseConnect(new ReadOnlySequence<byte>(input));
            CheckConnectResult(input, whole);

            var split = ParseConnect(RandomSplit(random, input));
            Assert.True(whole == split, $"split into segments: {split} but whole: {whole}");

            // Fed as reads of growing length, the first decided answer is the whole input's answer.
            var decided = FirstDecidedPrefix(random, input, ParseConnect);
            Assert.True(decided == whole, $"fed in reads: {decided} but whole: {whole}");

            // And valid heads still parse, however split: a parser that refused everything would pass the rest.
            var (valid, host, port) = ValidConnectHead(random);
            record(valid);
            var parsed = ParseConnect(RandomSplit(random, valid));
            Assert.True(parsed.Status == ConnectParseStatus.Complete && parsed.Host == host && parsed.Port == port, $"a valid head gave {parsed}");
        });
    }

    /// <summary>A valid CONNECT head with a random valid authority, version and extra fields, and what it must parse to.</summary>
    private static (byte[] Head, string Host, int Port) ValidConnectHead(Random random)
    {
        string[] hosts = ["example.com", "api.example.com", "EXAMPLE.COM.", "xn--bcher-kva.example", "a-b_c.example.org", "198.51.100.10", "127.1", "[2001:db8::1]", "[::ffff:192.0.2.1]"];
        var host = hosts[random.Next(hosts.Length)];
        var port = random.Next(1, 65536);
        var head = new StringBuilder($"CONNECT {host}:{port} HTTP/1.{random.Next(2)}\r\n");
        for (var i = random.Next(4); i > 0; i--)
        {
            head.Append(CultureInfo.InvariantCulture, $"X-Fuzz-{random.Next(1000)}: {new string((char)random.Next('!', '~' + 1), random.Next(1, 40))}\r\n");
        }

        head.Append("\r\n");
        return (Encoding.ASCII.GetBytes(head.ToString()), host.StartsWith('[') ? host[1..^1] : host, port);
    }

    [Fact]
    public async Task ClientHelloParser_MutatedHellos_NeverThrowsHangsOrDependsOnReadBoundaries()
    {
        var hellos = new List<byte[]>();
        string[] names = ["example.com", "a.b.example.org"];
        foreach (var name in names)
        {
            hellos.Add(await ClientHelloParserTests.CaptureClientHelloAsync(name, TestContext.Current.CancellationToken));
        }

        await FuzzAsync("ClientHellos", (random, record) =>
        {
            var input = Mutate(random, hellos[random.Next(hellos.Count)], maxMutations: 4);
            record(input);
            var whole = ParseHello(new ReadOnlySequence<byte>(input));
            if (whole.Status == ClientHelloParseStatus.Parsed && whole.Name is { } name)
            {
                Assert.True(name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'), $"server name '{FuzzRun.Escape(name)}' holds a character the parser must refuse");
            }

            var split = ParseHello(RandomSplit(random, input));
            Assert.True(whole == split, $"split into segments: {split} but whole: {whole}");
            var decided = FirstDecidedPrefix(random, input, ParseHello);
            Assert.True(decided == whole, $"fed in reads: {decided} but whole: {whole}");

            // The real ClientHellos still parse, with their names, however split.
            var index = random.Next(hellos.Count);
            var real = ParseHello(RandomSplit(random, hellos[index]));
            Assert.True(real == new HelloResult(ClientHelloParseStatus.Parsed, names[index]), $"a real ClientHello gave {real}");
        });
    }

    [Fact]
    public async Task DomainMatcher_RandomPatternsAndHosts_AgreesWithTheOnePatternAtATimeAnswer()
    {
        await FuzzAsync("domain patterns", (random, record) =>
        {
            var texts = Enumerable.Range(0, random.Next(1, 12)).Select(_ => RandomName(random)).ToList();
            var hosts = Enumerable.Range(0, 16).Select(_ => random.Next(3) == 0 ? RandomName(random) : DeriveHost(random, texts[random.Next(texts.Count)])).ToList();
            record(Encoding.UTF8.GetBytes(string.Join("\n", texts) + "\n--\n" + string.Join("\n", hosts)));

            var patterns = new List<DomainPattern>();
            foreach (var text in texts)
            {
                if (DomainPattern.TryParse(text, out var pattern, out var error))
                {
                    patterns.Add(pattern);

                    // A pattern written back and parsed again is the same pattern.
                    Assert.True(DomainPattern.TryParse(pattern.ToString(), out var again, out _) && again == pattern, $"'{FuzzRun.Escape(text)}' → '{pattern}' does not parse back to itself");
                }
                else
                {
                    Assert.False(string.IsNullOrWhiteSpace(error), $"'{FuzzRun.Escape(text)}' was refused without a reason");
                }
            }

            var set = new DomainSet(patterns);
            foreach (var host in hosts)
            {
                var expected = patterns.Any(p => p.Matches(host));
                Assert.True(set.Matches(host) == expected, $"the set says {!expected} for '{FuzzRun.Escape(host)}', the patterns one by one say {expected}");
            }

            // A plain valid name is always a valid pattern, matches itself and its subdomains under a leading dot.
            var name = $"{(char)random.Next('a', 'z' + 1)}{random.Next(1000)}.example.com";
            Assert.True(DomainPattern.TryParse(name, out var exact, out _) && exact.Matches(name) && !exact.Matches("x." + name), $"'{name}' as a pattern");
            Assert.True(DomainPattern.TryParse("." + name, out var parent, out _) && parent.Matches(name) && parent.Matches("x." + name), $"'.{name}' as a pattern");
        });
    }

    /// <summary>Runs <paramref name="iteration"/> until the budget is spent, on a watchdog, and reports the seed on any failure.</summary>
    private async Task FuzzAsync(string target, Action<Random, Action<byte[]>> iteration)
    {
        var seed = FuzzRun.Seed();
        var budget = FuzzRun.Budget();
        var master = new Random(seed);
        byte[] current = [];
        var count = 0;
        var cancellation = TestContext.Current.CancellationToken;

        var run = Task.Run(
            () =>
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (clock.Elapsed < budget && !cancellation.IsCancellationRequested)
                {
                    var random = new Random(master.Next());
                    try
                    {
                        iteration(random, input => current = input);
                    }
                    catch (Exception ex)
                    {
                        throw new InvalidOperationException($"{target}: input {count} of seed {seed} failed (replay with EGRESS_FUZZ_SEED={seed}): {ex.Message}\ninput: {FuzzRun.Escape(current)}", ex);
                    }

                    count++;
                }
            },
            cancellation);

        try
        {
            await run.WaitAsync(budget + HangMargin, cancellation);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{target}: input {count} of seed {seed} did not finish within {HangMargin.TotalSeconds:0} s (a hang; replay with EGRESS_FUZZ_SEED={seed})\ninput: {FuzzRun.Escape(current)}");
        }

        Robustness.RobustnessLedger.BadInputs(count);
        _output?.WriteLine($"fuzz {target}: seed {seed}, {count} inputs in {budget.TotalSeconds:0.#} s, 0 failures");
        Assert.True(count > 0, $"{target}: the budget of {budget} ran no input at all");
    }

    private sealed record ConnectResult(ConnectParseStatus Status, ConnectParseError Error, string? Host, int Port, string? Authority, long Consumed);

    private sealed record HelloResult(ClientHelloParseStatus Status, string? Name);

    private static ConnectResult ParseConnect(ReadOnlySequence<byte> buffer)
    {
        var status = ConnectRequestParser.TryParse(buffer, ConnectHeadLimit, out var request, out var error, out var consumed, out _);
        return new ConnectResult(status, error, request?.Host, request?.Port ?? 0, request?.RawAuthority, buffer.Slice(0, consumed).Length);
    }

    private static HelloResult ParseHello(ReadOnlySequence<byte> buffer)
    {
        var status = ClientHelloParser.TryParse(buffer, ClientHelloLimit, out var name);
        return new HelloResult(status, name);
    }

    private static void CheckConnectResult(byte[] input, ConnectResult result)
    {
        if (result.Status != ConnectParseStatus.Complete)
        {
            Assert.Null(result.Host);
            return;
        }

        Assert.InRange(result.Port, 1, 65535);
        Assert.False(string.IsNullOrEmpty(result.Host), "a complete head with an empty host");
        Assert.InRange(result.Consumed, 4, Math.Min(input.Length, ConnectHeadLimit));
        Assert.True(result.Host!.All(c => c > ' ' && c < 0x7f), $"host '{FuzzRun.Escape(result.Host!)}' holds a space or control character");
        Assert.True(result.Authority!.All(c => c > ' ' && c < 0x7f), $"authority '{FuzzRun.Escape(result.Authority!)}' holds a space or control character");

        // The head really ends where the parser says: an empty line just before the payload.
        Assert.True(input.AsSpan(0, (int)result.Consumed).EndsWith("\r\n\r\n"u8) || input.AsSpan(0, (int)result.Consumed).EndsWith("\n\n"u8), "the head does not end with an empty line");
    }

    /// <summary>Feeds growing prefixes, as a socket would deliver them, and returns the first answer that is not "incomplete".</summary>
    private static T FirstDecidedPrefix<T>(Random random, byte[] input, Func<ReadOnlySequence<byte>, T> parse)
    {
        var length = 0;
        T last;
        do
        {
            length = Math.Min(input.Length, length + 1 + random.Next(random.Next(2) == 0 ? 8 : 512));
            last = parse(new ReadOnlySequence<byte>(input, 0, length));
            var undecided = last switch
            {
                ConnectResult c => c.Status == ConnectParseStatus.Incomplete,
                HelloResult h => h.Status == ClientHelloParseStatus.Incomplete,
                _ => false,
            };
            if (!undecided)
            {
                return last;
            }
        }
        while (length < input.Length);

        return last;
    }

    private static ReadOnlySequence<byte> RandomSplit(Random random, byte[] input)
    {
        var cuts = new SortedSet<int>();
        for (var i = random.Next(0, 6); i > 0 && input.Length > 1; i--)
        {
            cuts.Add(random.Next(1, input.Length));
        }

        return TunnelParserTestSequences.SplitAt(input, [.. cuts]);
    }

    private static byte[] MutateConnectHead(Random random)
    {
        var head = ConnectSeeds[random.Next(ConnectSeeds.Length)];
        if (random.Next(3) == 0)
        {
            var start = head.IndexOf(' ', StringComparison.Ordinal) + 1;
            var end = head.IndexOf(' ', start);
            head = head[..start] + Authorities[random.Next(Authorities.Length)] + head[end..];
        }

        return Mutate(random, Encoding.Latin1.GetBytes(head), maxMutations: 3);
    }

    private static byte[] Mutate(Random random, byte[] seed, int maxMutations)
    {
        var bytes = new List<byte>(seed);
        for (var n = random.Next(0, maxMutations + 1); n > 0; n--)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    bytes.Insert(at, Interesting[random.Next(Interesting.Length)]);
                    break;
                case 3 when bytes.Count > 0:
                    bytes.RemoveAt(at);
                    break;
                case 4 when bytes.Count > 0:
                    // A run that crosses the limits: long lines, long headers, long records.
                    bytes.InsertRange(at, Enumerable.Repeat(bytes[at], random.Next(1, random.Next(2) == 0 ? 64 : 20_000)));
                    break;
                case 5 when bytes.Count > 4:
                    var length = random.Next(1, Math.Min(64, bytes.Count - at) + 1);
                    bytes.InsertRange(at, bytes.GetRange(at, Math.Min(length, bytes.Count - at)));
                    break;
                case 6 when bytes.Count > 0:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
            }
        }

        return [.. bytes];
    }

    private static string RandomName(Random random)
    {
        var text = new StringBuilder();
        for (var n = random.Next(1, 5); n > 0; n--)
        {
            if (text.Length > 0 && random.Next(4) > 0)
            {
                text.Append('.');
            }

            text.Append(PatternPieces[random.Next(PatternPieces.Length)]);
        }

        return text.ToString();
    }

    /// <summary>A host that a pattern is likely to match or nearly match, so the agreement check meets both answers.</summary>
    private static string DeriveHost(Random random, string pattern)
    {
        var name = pattern.TrimStart('*', '.');
        return random.Next(5) switch
        {
            0 => name,
            1 => "x." + name,
            2 => "a.b." + name.ToUpperInvariant() + ".",
            3 => "x" + name,
            _ => name.Length > 1 ? name[1..] : name,
        };
    }
}
