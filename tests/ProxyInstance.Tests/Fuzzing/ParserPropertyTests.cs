using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using CsCheck;
using EgressLab.ProxyInstance.Policy;
using EgressLab.ProxyInstance.Targets;
using EgressLab.ProxyInstance.Tests.Tunnel;
using EgressLab.ProxyInstance.Tunnel;

namespace EgressLab.ProxyInstance.Tests.Fuzzing;

/// <summary>
/// Property tests, on CsCheck, of the parsers and matchers that see untrusted input first: the CONNECT head parser,
/// the TLS ClientHello parser, the domain-pattern matcher and the request-target canonicaliser. Generated valid inputs
/// must parse to what they were built from; mutations of valid inputs (so they get deep) must never throw, never
/// depend on how the bytes are split into reads, and the indexed matcher must agree with the plain one.
/// </summary>
/// <remarks>
/// A failure is shrunk to a small counterexample and reported with a seed. To replay exactly that case:
/// <c>CsCheck_Seed=&lt;seed&gt; dotnet test tests/ProxyInstance.Tests --filter "FullyQualifiedName~ParserPropertyTests"</c>.
/// <c>CsCheck_Iter=100000</c> or <c>CsCheck_Time=60</c> (seconds) runs each property longer than the default
/// <see cref="Iterations"/>.
/// </remarks>
public sealed class ParserPropertyTests : Robustness.RobustnessTest
{
    /// <summary>Cases per property in a normal run; together the properties take a few seconds.</summary>
    private const long Iterations = 5_000;

    private const int ConnectHeadLimit = 8192;
    private const int ClientHelloLimit = 16384;
    private static readonly TimeSpan HangLimit = TimeSpan.FromMinutes(2);

    private static readonly string[] ConnectSeeds =
    [
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "CONNECT api.example.com:8443 HTTP/1.0\r\n\r\n",
        "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\nUser-Agent: curl/8.5\r\n\r\n",
        "CONNECT 198.51.100.10:443 HTTP/1.1\r\nHost: 198.51.100.10:443\r\nProxy-Connection: keep-alive\r\n\r\n\x16\x03\x01\x00\x05hello",
    ];

    // Authorities that must be refused, and good ones, spliced into heads whole.
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

    private static readonly string[] HelloNames = ["example.com", "a.b.example.org"];

    private static readonly Lazy<Task<byte[][]>> ClientHellos = new(() => Task.WhenAll(
        HelloNames.Select(name => ClientHelloParserTests.CaptureClientHelloAsync(name, CancellationToken.None))));

    // A label a strict parser accepts: a letter first, then letters, digits and inner hyphens.
    private static readonly Gen<string> Label =
        Gen.Select(
            Gen.Char["abcdefghijklmnopqrstuvwxyz"],
            Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-"].Array[0, 12],
            Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789"],
            (first, middle, last) => middle.Length == 0 ? first.ToString() : $"{first}{new string(middle)}{last}");

    /// <summary>A valid DNS name in lower case: one to four labels under a top-level domain.</summary>
    private static readonly Gen<string> Name =
        Gen.Select(Label.Array[1, 4], Gen.OneOf("com", "org", "net", "example", "io"), (labels, top) => $"{string.Join('.', labels)}.{top}");

    /// <summary>A name as a client may write it (some letters upper case, perhaps a trailing dot), and its canonical form.</summary>
    private static readonly Gen<(string Written, string Canonical)> WrittenName =
        Gen.Select(Name, Gen.Int, Gen.Bool, (name, caseBits, dot) => (MixCase(name, caseBits) + (dot ? "." : ""), name));

    /// <summary>A host and port as a CONNECT authority carries them: a name, an IPv4 address or a bracketed IPv6 one.</summary>
    private static readonly Gen<(string Authority, string Host, string Canonical, int Port)> ValidAuthority =
        Gen.Select(
            Gen.OneOf(
                WrittenName.Select(n => (n.Written, n.Written, n.Canonical)),
                Gen.Byte.Array[4].Select(b => new IPAddress(b).ToString()).Select(a => (a, a, a)),
                Gen.Byte.Array[16].Select(b => new IPAddress(b).ToString()).Select(a => ($"[{a}]", a, a))),
            Gen.Int[1, 65535],
            (host, port) => (host.Item1, host.Item2, host.Item3, port));

    private static readonly Gen<Mutation[]> Mutations = Gen.Select(
        Gen.Int[0, 6], Gen.Int[0, 1 << 20], Gen.Byte, Gen.Frequency((4, Gen.Int[1, 64]), (1, Gen.Int[1, 20_000])),
        (kind, at, value, length) => new Mutation(kind, at, value, length)).Array[0, 4];

    /// <summary>Where to cut an input into segments, as positions to be taken modulo its length.</summary>
    private static readonly Gen<int[]> Cuts = Gen.Int[1, 1 << 20].Array[0, 5];

    /// <summary>Lengths of successive socket reads, repeated as needed.</summary>
    private static readonly Gen<int[]> Reads = Gen.OneOf(Gen.Int[1, 8], Gen.Int[1, 512]).Array[1, 8];

    [Fact]
    public Task ConnectRequestParser_ValidHeads_ParseToTheirAuthorityHoweverSplit() => CheckAsync(
        Gen.Select(ValidAuthority, Gen.Int[0, 1], Gen.Select(Gen.Int[0, 999], Gen.Char['!', '~'].Array[1, 40]).Array[0, 3], Cuts),
        (authority, minor, fields, cuts) =>
        {
            var head = new StringBuilder().Append(CultureInfo.InvariantCulture, $"CONNECT {authority.Authority}:{authority.Port} HTTP/1.{minor}\r\n");
            foreach (var (number, value) in fields)
            {
                head.Append(CultureInfo.InvariantCulture, $"X-Field-{number}: {new string(value)}\r\n");
            }

            var input = Encoding.ASCII.GetBytes(head.Append("\r\n").ToString());
            var parsed = ParseConnect(Split(input, cuts));
            Assert.Equal(new ConnectResult(ConnectParseStatus.Complete, ConnectParseError.None, authority.Host, authority.Port, $"{authority.Authority}:{authority.Port}", input.Length), parsed);

            // The parsed host is one the rest of the proxy accepts, in the canonical form it was built from.
            Assert.True(EgressTarget.TryCreate(parsed.Host!, parsed.Port, out var target), $"'{parsed.Host}' is no egress target");
            Assert.Equal(authority.Canonical, target.Host);
        },
        print: t => $"{t.Item1.Authority}:{t.Item1.Port}, HTTP/1.{t.Item2}, {t.Item3.Length} fields, cuts [{string.Join(',', t.Item4)}]");

    [Fact]
    public Task ConnectRequestParser_MutatedHeads_NeverThrowOrDependOnReadBoundaries() => CheckAsync(
        Gen.Select(Gen.Int[0, ConnectSeeds.Length - 1], Gen.Int[-Authorities.Length, Authorities.Length - 1], Mutations)
            .Select((seed, authority, mutations) => Mutate(ConnectHead(ConnectSeeds[seed], authority), mutations)),
        Cuts,
        Reads,
        (input, cuts, reads) =>
        {
            var whole = ParseEveryWay(input, cuts, reads, ParseConnect, r => r.Status == ConnectParseStatus.Incomplete);
            CheckConnectResult(input, whole);
        },
        print: DescribeReads);

    [Fact]
    public async Task ClientHelloParser_MutatedHellos_NeverThrowOrDependOnReadBoundaries()
    {
        var hellos = await ClientHellos.Value.WaitAsync(HangLimit, Token);
        await CheckAsync(
            Gen.Select(Gen.Int[0, hellos.Length - 1], Mutations).Select((index, mutations) => Mutate(hellos[index], mutations)),
            Cuts,
            Reads,
            (input, cuts, reads) =>
            {
                var whole = ParseEveryWay(input, cuts, reads, ParseHello, r => r.Status == ClientHelloParseStatus.Incomplete);
                if (whole is { Status: ClientHelloParseStatus.Parsed, Name: { } name })
                {
                    Assert.True(name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'),
                        $"server name '{FuzzRun.Escape(name)}' holds a character the parser must refuse");
                }
            },
            print: DescribeReads);
    }

    [Fact]
    public async Task ClientHelloParser_RealHellos_ParseWithTheirNameHoweverSplit()
    {
        var hellos = await ClientHellos.Value.WaitAsync(HangLimit, Token);
        await CheckAsync(
            Gen.Int[0, hellos.Length - 1],
            Cuts,
            (index, cuts) => Assert.Equal(new HelloResult(ClientHelloParseStatus.Parsed, HelloNames[index]), ParseHello(Split(hellos[index], cuts))));
    }

    [Fact]
    public Task DomainSet_RandomPatternsAndHosts_AgreesWithThePatternsOneByOne() => CheckAsync(
        Gen.Select(RandomPatternText.Array[1, 12], Gen.Int, Gen.Int.Array[16]),
        t =>
        {
            var (texts, seed, choices) = t;
            var patterns = new List<DomainPattern>();
            foreach (var text in texts)
            {
                if (DomainPattern.TryParse(text, out var pattern, out var error))
                {
                    patterns.Add(pattern);

                    // A pattern written back and parsed again is the same pattern.
                    Assert.True(DomainPattern.TryParse(pattern.ToString(), out var again, out _) && again == pattern,
                        $"'{FuzzRun.Escape(text)}' → '{pattern}' does not parse back to itself");
                }
                else
                {
                    Assert.False(string.IsNullOrWhiteSpace(error), $"'{FuzzRun.Escape(text)}' was refused without a reason");
                }
            }

            var set = new DomainSet(patterns);
            foreach (var choice in choices)
            {
                // Mostly hosts near a pattern, so the check meets both answers.
                var host = DeriveHost(texts[(int)((uint)choice % texts.Length)], choice ^ seed);
                var expected = patterns.Any(p => p.Matches(host));
                Assert.True(set.Matches(host) == expected,
                    $"the set says {!expected} for '{FuzzRun.Escape(host)}', the patterns one by one say {expected}");
            }
        },
        print: t => $"patterns [{string.Join(", ", t.Item1.Select(p => $"'{FuzzRun.Escape(p)}'"))}], seed {t.Item2}");

    [Fact]
    public Task DomainPattern_ValidNames_ParseAndMatchAsWritten() => CheckAsync(
        WrittenName,
        Label,
        (name, sub) =>
        {
            Assert.True(DomainPattern.TryParse(name.Written, out var exact, out var error), error);
            Assert.Equal(name.Canonical, exact.ToString());
            Assert.True(exact.Matches(name.Canonical) && exact.Matches(name.Written), $"'{exact}' does not match its own name");
            Assert.False(exact.Matches($"{sub}.{name.Canonical}"), $"the exact pattern '{exact}' matches a subdomain");

            Assert.True(DomainPattern.TryParse("." + name.Canonical, out var parent, out error), error);
            Assert.True(parent.Matches(name.Written) && parent.Matches($"{sub}.{name.Written}"), $"'{parent}' does not match its name and subdomains");
            Assert.False(parent.Matches($"{sub}{name.Canonical}"), $"'{parent}' matches a name that merely ends like it");

            Assert.True(DomainPattern.TryParse("*." + name.Canonical, out var children, out error), error);
            Assert.True(!children.Matches(name.Written) && children.Matches($"{sub}.{name.Written}"), $"'{children}' does not match subdomains only");
        });

    [Fact]
    public Task EgressTarget_ValidAuthorities_AreCanonicalAndRoundTrip() => CheckAsync(
        ValidAuthority,
        authority =>
        {
            Assert.True(EgressTarget.TryCreate(authority.Authority, authority.Port, out var target), $"'{authority.Authority}' was refused");
            Assert.Equal((authority.Canonical, authority.Port), (target.Host, target.Port));
            Assert.True(target.IsHost(authority.Host), $"'{target}' is not host '{authority.Host}'");

            // The canonical form is a fixed point, and its URI form parses back to the same target.
            Assert.True(EgressTarget.TryCreate(target.Host, target.Port, out var again) && again == target, $"'{target.Host}' is not canonical");
            Assert.True(EgressTarget.TryCreate(target.UriHost, target.Port, out var fromUri) && fromUri == target, $"'{target.UriHost}' does not give '{target}'");
        });

    [Fact]
    public Task EgressTarget_MutatedHosts_NeverThrowAndGiveCanonicalHosts() => CheckAsync(
        Gen.Select(ValidAuthority, Mutations).Select((authority, mutations) => Encoding.Latin1.GetString(Mutate(Encoding.Latin1.GetBytes(authority.Authority), mutations))),
        Gen.Int[-1, 65536],
        (host, port) =>
        {
            if (EgressTarget.TryCreate(host, port, out var target))
            {
                Assert.InRange(target.Port, 1, 65535);
                Assert.True(target.Host.Length > 0 && target.Host.All(c => c is > ' ' and < (char)0x7f && !char.IsAsciiLetterUpper(c)),
                    $"'{FuzzRun.Escape(target.Host)}' is not in canonical form");
                Assert.True(EgressTarget.TryCreate(target.Host, port, out var again) && again == target, $"'{FuzzRun.Escape(target.Host)}' is not a fixed point");
            }
        },
        print: t => $"'{FuzzRun.Escape(t.Item1)}' port {t.Item2}");

    private static Gen<string> RandomPatternText { get; } =
        Gen.Select(Gen.Int[0, PatternPieces.Length - 1], Gen.Int[0, 3]).Array[1, 4].Select(pieces =>
        {
            var text = new StringBuilder();
            foreach (var (piece, separator) in pieces)
            {
                if (text.Length > 0 && separator > 0)
                {
                    text.Append('.');
                }

                text.Append(PatternPieces[piece]);
            }

            return text.ToString();
        });

    /// <summary>Runs a property on the thread pool, bounded so a hang fails the test, and counts its cases as bad inputs.</summary>
    private static async Task CheckAsync(Action sample)
    {
        await Task.Run(sample, Token).WaitAsync(HangLimit, Token);
        Robustness.RobustnessLedger.BadInputs((int)Math.Min(int.MaxValue, Check.Iter > 1 ? Check.Iter : Iterations));
    }

    private static Task CheckAsync<T>(Gen<T> gen, Action<T> property, Func<T, string>? print = null) =>
        CheckAsync(() => gen.Sample(property, iter: Iter, time: Check.Time, print: print));

    private static Task CheckAsync<T1, T2>(Gen<T1> gen1, Gen<T2> gen2, Action<T1, T2> property, Func<(T1, T2), string>? print = null) =>
        CheckAsync(() => Gen.Select(gen1, gen2).Sample(property, iter: Iter, time: Check.Time, print: print));

    private static Task CheckAsync<T1, T2, T3>(Gen<T1> gen1, Gen<T2> gen2, Gen<T3> gen3, Action<T1, T2, T3> property, Func<(T1, T2, T3), string>? print = null) =>
        CheckAsync(() => Gen.Select(gen1, gen2, gen3).Sample(property, iter: Iter, time: Check.Time, print: print));

    private static Task CheckAsync<T1, T2, T3, T4>(Gen<(T1, T2, T3, T4)> gen, Action<T1, T2, T3, T4> property, Func<(T1, T2, T3, T4), string>? print = null) =>
        CheckAsync(() => gen.Sample(property, iter: Iter, time: Check.Time, print: print));

    /// <summary><see cref="Iterations"/>, unless <c>CsCheck_Iter</c> asks for another count.</summary>
    private static long Iter => Environment.GetEnvironmentVariable("CsCheck_Iter") is null ? Iterations : Check.Iter;

    private sealed record ConnectResult(ConnectParseStatus Status, ConnectParseError Error, string? Host, int Port, string? Authority, long Consumed);

    private sealed record HelloResult(ClientHelloParseStatus Status, string? Name);

    /// <summary>One edit of an input; <see cref="At"/> is taken modulo its length.</summary>
    private readonly record struct Mutation(int Kind, int At, byte Value, int Length);

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
        var head = input.AsSpan(0, (int)result.Consumed);
        Assert.True(head.EndsWith("\r\n\r\n"u8) || head.EndsWith("\n\n"u8), "the head does not end with an empty line");
    }

    /// <summary>
    /// Parses <paramref name="input"/> whole, split into segments at <paramref name="cuts"/>, and fed in reads of growing
    /// length; asserts that the split answer and the first decided answer of the reads are the whole input's, and returns it.
    /// </summary>
    private static T ParseEveryWay<T>(byte[] input, int[] cuts, int[] reads, Func<ReadOnlySequence<byte>, T> parse, Func<T, bool> undecided)
    {
        var whole = parse(new ReadOnlySequence<byte>(input));
        Assert.Equal(whole, parse(Split(input, cuts)));
        Assert.Equal(whole, FirstDecidedPrefix(input, reads, parse, undecided));
        return whole;
    }

    private static string DescribeReads((byte[] Input, int[] Cuts, int[] Reads) t) =>
        $"{FuzzRun.Escape(t.Input)} cuts [{string.Join(',', t.Cuts)}] reads [{string.Join(',', t.Reads)}]";

    /// <summary>Feeds growing prefixes, as a socket would deliver them, and returns the first answer that is not "incomplete".</summary>
    private static T FirstDecidedPrefix<T>(byte[] input, int[] reads, Func<ReadOnlySequence<byte>, T> parse, Func<T, bool> undecided)
    {
        var length = 0;
        T last;
        var read = 0;
        do
        {
            length = Math.Min(input.Length, length + reads[read++ % reads.Length]);
            last = parse(new ReadOnlySequence<byte>(input, 0, length));
        }
        while (undecided(last) && length < input.Length);

        return last;
    }

    private static ReadOnlySequence<byte> Split(byte[] input, int[] cuts) =>
        input.Length < 2
            ? new ReadOnlySequence<byte>(input)
            : TunnelParserTestSequences.SplitAt(input, [.. cuts.Select(c => 1 + (c % (input.Length - 1))).Distinct().Order()]);

    /// <summary>A seed head, with its authority replaced by one of <see cref="Authorities"/> when <paramref name="authority"/> is not negative.</summary>
    private static byte[] ConnectHead(string head, int authority)
    {
        if (authority >= 0)
        {
            var start = head.IndexOf(' ', StringComparison.Ordinal) + 1;
            var end = head.IndexOf(' ', start);
            head = head[..start] + Authorities[authority] + head[end..];
        }

        return Encoding.Latin1.GetBytes(head);
    }

    private static byte[] Mutate(byte[] seed, Mutation[] mutations)
    {
        var bytes = new List<byte>(seed);
        foreach (var (kind, position, value, length) in mutations)
        {
            var at = bytes.Count == 0 ? 0 : position % bytes.Count;
            switch (kind)
            {
                case 0 when bytes.Count > 0:
                    bytes[at] = value;
                    break;
                case 1 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << (value % 8));
                    break;
                case 2:
                    bytes.Insert(at, Interesting[value % Interesting.Length]);
                    break;
                case 3 when bytes.Count > 0:
                    bytes.RemoveAt(at);
                    break;
                case 4 when bytes.Count > 0:
                    // A run that crosses the limits: long lines, long headers, long records.
                    bytes.InsertRange(at, Enumerable.Repeat(bytes[at], length));
                    break;
                case 5 when bytes.Count > 4:
                    bytes.InsertRange(at, bytes.GetRange(at, Math.Min(Math.Min(length, 64), bytes.Count - at)));
                    break;
                case 6 when bytes.Count > 0:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
            }
        }

        return [.. bytes];
    }

    private static string MixCase(string name, int bits)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (((bits >> (i % 32)) & 1) == 1)
            {
                chars[i] = char.ToUpperInvariant(chars[i]);
            }
        }

        return new string(chars);
    }

    /// <summary>A host that a pattern is likely to match or nearly match.</summary>
    private static string DeriveHost(string pattern, int choice)
    {
        var name = pattern.TrimStart('*', '.');
        return ((uint)choice % 6) switch
        {
            0 => name,
            1 => "x." + name,
            2 => "a.b." + name.ToUpperInvariant() + ".",
            3 => "x" + name,
            4 => name.Length > 1 ? name[1..] : name,
            _ => pattern,
        };
    }
}
