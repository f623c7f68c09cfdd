using System.Net;
using System.Text;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Policy;
using static System.FormattableString;

namespace EgressLab.LoadTests.Bench;

/// <summary>A request to decide, and the decision the allowlist must give it.</summary>
internal readonly record struct PolicyDecisionQuery(PolicyRequest Request, PolicyDecision Expected);

/// <summary>
/// An allowlist shaped like a real one, compiled the way the proxy compiles its configuration, and
/// <see cref="QueryCount"/> requests against it, each with the decision it must get.
/// </summary>
/// <remarks>
/// <para>
/// Four rules, in the order a careful author writes them: a deny list first, then cloud APIs for tunnels only, then
/// the organisation's own services for its own networks, then partner webhooks open to any client. The domains are
/// split over them (1% deny list, 30% cloud APIs, 5% partners, the rest internal); about a quarter are leading-dot
/// patterns (the name and its subdomains) and the rest exact names, three to six labels deep.
/// </para>
/// <para>
/// The requests are about half allowed exact names, a fifth allowed subdomains of leading-dot patterns (and a few of
/// their anchors), a fifth names on no list, and the rest refused by the deny list or by a port, client or method no
/// rule allows. About 30% are in mixed case and 5% end in a dot, as received from clients. Everything is generated from
/// a fixed seed, so every run times the same work.
/// </para>
/// </remarks>
internal sealed class PolicyDecisionWorkload
{
    /// <summary>Requests rotated through; a power of two, so rotating is a mask.</summary>
    public const int QueryCount = 1024;

    /// <summary>Fewest domains that give every rule every kind of entry the requests draw on.</summary>
    public const int MinDomains = 100;

    public const string DenyRule = "deny-listed";
    public const string CloudRule = "aws-apis";
    public const string InternalRule = "internal-services";
    public const string PartnerRule = "partner-webhooks";

    private const int Seed = 20_240_611;

    private static readonly string[] Geographies =
        ["us-east", "us-west", "eu-west", "eu-central", "eu-north", "ap-southeast", "ap-northeast", "ap-south", "sa-east", "ca-central", "me-south", "af-south"];

    private static readonly string[] CloudServices =
        ["api", "sqs", "sns", "ec2", "logs", "monitoring", "sts", "kms", "secretsmanager", "dynamodb", "lambda", "ecr", "ssm", "events", "states", "kinesis"];

    private static readonly string[] CloudBucketServices = ["s3", "execute-api", "elb", "s3-website"];

    private static readonly PolicyDecision DefaultDeny = new(PolicyAction.Deny, PolicyReason.DefaultDeny, null);

    private PolicyDecisionWorkload(PolicyOptions options, CompiledPolicy policy, PolicyDecisionQuery[] queries)
    {
        Options = options;
        Policy = policy;
        Queries = queries;
    }

    /// <summary>The allowlist as configuration.</summary>
    public PolicyOptions Options { get; }

    /// <summary>The allowlist compiled by <see cref="PolicyCompiler"/>, as the proxy compiles it.</summary>
    public CompiledPolicy Policy { get; }

    /// <summary><see cref="QueryCount"/> requests in a shuffled order, each with its expected decision.</summary>
    public IReadOnlyList<PolicyDecisionQuery> Queries { get; }

    /// <summary>Builds an allowlist of exactly <paramref name="domains"/> distinct patterns, compiles it and draws the requests.</summary>
    public static PolicyDecisionWorkload Create(int domains)
    {
        var lists = new DomainLists(domains);
        var options = CreateOptions(lists);
        var errors = new List<ConfigError>();
        if (!PolicyCompiler.TryCompile(options, $"{ProxyOptions.SectionName}:Policy", errors, out var policy))
        {
            throw new InvalidOperationException(
                $"The generated allowlist does not compile: {string.Join("; ", errors.Select(e => $"{e.Path}: {e.Message}"))}");
        }

        return new PolicyDecisionWorkload(options, policy, CreateQueries(lists));
    }

    /// <summary>
    /// Decides every query and throws if any decision differs from the expected one, so a benchmark can never time a
    /// policy that decides wrongly.
    /// </summary>
    /// <exception cref="InvalidOperationException">At least one query was decided otherwise than expected.</exception>
    public static void Verify(CompiledPolicy policy, IReadOnlyList<PolicyDecisionQuery> queries)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(queries);
        var wrong = 0;
        string? first = null;
        foreach (var query in queries)
        {
            var decision = policy.Decide(query.Request);
            if (decision != query.Expected)
            {
                wrong++;
                first ??= $"{Describe(query.Request)} was decided {Describe(decision)}, expected {Describe(query.Expected)}";
            }
        }

        if (wrong > 0)
        {
            throw new InvalidOperationException(
                Invariant($"The policy decided {wrong} of {queries.Count} benchmark requests otherwise than expected, so its time would mean nothing; first: {first}."));
        }
    }

    private static PolicyOptions CreateOptions(DomainLists lists)
    {
        // The cloud APIs serve every private network of the organisation; the internal services only 10/8 and IPv6 ULA.
        List<string> privateNetworks = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];
        return new PolicyOptions
        {
            DefaultAction = "Deny",
            Rules =
            [
                new RuleOptions { Name = DenyRule, Action = "Deny", Domains = [.. lists.DenySuffixes.Select(Dotted)] },
                new RuleOptions
                {
                    Name = CloudRule,
                    Action = "Allow",
                    Sources = privateNetworks,
                    Domains = [.. lists.CloudExact, .. lists.CloudSuffixes.Select(Dotted)],
                    // Every bucket of a regional S3 or API Gateway endpoint: public suffixes, allowed on purpose.
                    AllowPublicSuffixWildcards = true,
                    Ports = [443],
                    Methods = ["CONNECT"],
                },
                new RuleOptions
                {
                    Name = InternalRule,
                    Action = "Allow",
                    Sources = ["10.0.0.0/8", "fc00::/7"],
                    Domains = [.. lists.InternalExact, .. lists.InternalSuffixes.Select(Dotted)],
                    Ports = [80, 443],
                },
                new RuleOptions
                {
                    Name = PartnerRule,
                    Action = "Allow",
                    Domains = [.. lists.PartnerExact, .. lists.PartnerSuffixes.Select(Dotted)],
                    Ports = [443],
                    Methods = ["POST", "CONNECT"],
                },
            ],
        };
    }

    private static PolicyDecisionQuery[] CreateQueries(DomainLists lists)
    {
        var random = new Random(Seed);
        var clients = new Clients(random);
        var cloud = Allow(CloudRule);
        var internalServices = Allow(InternalRule);
        var partner = Allow(PartnerRule);
        var denyListed = new PolicyDecision(PolicyAction.Deny, PolicyReason.RuleDeny, DenyRule);
        var queries = new List<PolicyDecisionQuery>(QueryCount);

        void Add(int count, Func<PolicyDecisionQuery> next)
        {
            for (var i = 0; i < count; i++)
            {
                queries.Add(next());
            }
        }

        // Allowed exact names: 535.
        Add(400, () => InternalRequest(random, clients.Internal(), Pick(random, lists.InternalExact), internalServices));
        Add(120, () => Query(clients.Private(), "CONNECT", Pick(random, lists.CloudExact), 443, cloud));
        Add(15, () => Query(clients.Public(), "POST", Pick(random, lists.PartnerExact), 443, partner));

        // Allowed subdomains of leading-dot patterns, and a few of their anchors: 195.
        Add(100, () => InternalRequest(random, clients.Internal(), Subdomain(random, Pick(random, lists.InternalSuffixes)), internalServices));
        Add(20, () => InternalRequest(random, clients.Internal(), Pick(random, lists.InternalSuffixes), internalServices));
        Add(60, () => Query(clients.Private(), "CONNECT", Invariant($"bucket-{random.Next(100_000)}.{Pick(random, lists.CloudSuffixes)}"), 443, cloud));
        Add(15, () => Query(clients.Public(), "CONNECT", Subdomain(random, Pick(random, lists.PartnerSuffixes)), 443, partner));

        // Refused: names on no list (220), the deny list (30), and listed names with a port, client or method no rule
        // allows (44).
        Add(220, () => InternalRequest(random, clients.Internal(), Unlisted(random, lists), DefaultDeny));
        Add(30, () => InternalRequest(random, clients.Internal(), Subdomain(random, Pick(random, lists.DenySuffixes)), denyListed));
        Add(15, () => Query(clients.Internal(), "GET", Pick(random, lists.InternalExact), 8443, DefaultDeny));
        Add(15, () => Query(clients.Public(), "GET", Pick(random, lists.InternalExact), 443, DefaultDeny));
        Add(14, () => Query(clients.Private(), "GET", Pick(random, lists.CloudExact), 443, DefaultDeny));

        if (queries.Count != QueryCount)
        {
            throw new InvalidOperationException(Invariant($"The query mix adds up to {queries.Count}, not {QueryCount}."));
        }

        // Clients send names in any case and sometimes fully qualified; the policy must normalise them.
        for (var i = 0; i < queries.Count; i++)
        {
            var (request, expected) = queries[i];
            var host = request.Host;
            if (random.Next(100) < 30)
            {
                host = MixCase(random, host);
            }

            if (random.Next(100) < 5)
            {
                host += ".";
            }

            queries[i] = new PolicyDecisionQuery(request with { Host = host }, expected);
        }

        var shuffled = queries.ToArray();
        random.Shuffle(shuffled);
        return shuffled;
    }

    private static PolicyDecision Allow(string rule) => new(PolicyAction.Allow, PolicyReason.RuleAllow, rule);

    private static PolicyDecisionQuery Query(IPAddress client, string method, string host, int port, PolicyDecision expected) =>
        new(new PolicyRequest(client, null, method, host, port), expected);

    /// <summary>A request to an internal service: mostly plain-HTTP GETs and tunnels, some POSTs and HEADs.</summary>
    private static PolicyDecisionQuery InternalRequest(Random random, IPAddress client, string host, PolicyDecision expected)
    {
        var roll = random.Next(100);
        var (method, port) = roll switch
        {
            < 30 => ("GET", 80),
            < 50 => ("GET", 443),
            < 80 => ("CONNECT", 443),
            < 95 => ("POST", 80),
            _ => ("HEAD", 80),
        };
        return Query(client, method, host, port, expected);
    }

    private static string Pick(Random random, List<string> names) => names[random.Next(names.Count)];

    /// <summary>A name one to three labels below <paramref name="anchor"/>.</summary>
    private static string Subdomain(Random random, string anchor) => random.Next(3) switch
    {
        0 => $"www.{anchor}",
        1 => Invariant($"eu.api-{random.Next(100)}.{anchor}"),
        _ => Invariant($"a{random.Next(10)}.b{random.Next(10)}.c{random.Next(10)}.{anchor}"),
    };

    /// <summary>A name no pattern matches, often one close to a listed name.</summary>
    private static string Unlisted(Random random, DomainLists lists)
    {
        var unknown = 10_000_000 + random.Next(1_000_000);
        return random.Next(8) switch
        {
            // The shapes of listed names, with numbers beyond any generated.
            0 => Invariant($"svc-{unknown}.example.com"),
            1 => Invariant($"api.team-{unknown}.example.org"),
            2 => $"sqs.{Region(unknown)}.amazonaws.com",

            // A subdomain of a name listed exactly: exact names do not cover their subdomains.
            3 => $"x.{Pick(random, lists.InternalExact)}",

            // A listed name inside someone else's domain.
            4 => $"{Pick(random, lists.InternalExact)}.attacker.example",

            // The parent of a listed name.
            5 => ParentOfListed(random, lists),
            6 => "amazonaws.com",
            _ => Invariant($"cdn.unlisted-{unknown}.example.net"),
        };
    }

    /// <summary>The nearest parent of a listed exact name that is not listed itself.</summary>
    private static string ParentOfListed(Random random, DomainLists lists)
    {
        var name = Pick(random, lists.InternalExact);
        do
        {
            name = name[(name.IndexOf('.', StringComparison.Ordinal) + 1)..];
        }
        while (lists.IsListed(name));

        return name;
    }

    private static string MixCase(Random random, string host)
    {
        var builder = new StringBuilder(host);
        for (var i = 0; i < builder.Length; i++)
        {
            if (char.IsAsciiLetterLower(builder[i]) && random.Next(3) == 0)
            {
                builder[i] = char.ToUpperInvariant(builder[i]);
            }
        }

        return builder.ToString();
    }

    private static string Dotted(string anchor) => "." + anchor;

    /// <summary>Region names in the cloud's style (<c>eu-west-3</c>), as many as asked for.</summary>
    private static string Region(int index) => Invariant($"{Geographies[index % Geographies.Length]}-{1 + (index / Geographies.Length)}");

    private static string Describe(PolicyRequest request) =>
        Invariant($"{request.Method} {request.Host}:{request.Port} from {request.Client}");

    private static string Describe(PolicyDecision decision) =>
        $"{decision.Action} ({decision.Reason}, rule {decision.RuleName ?? "none"})";

    /// <summary>
    /// The generated names, split over the rules. Every name embeds its index, so they are distinct by construction;
    /// suffix lists hold the anchor, without the leading dot.
    /// </summary>
    private sealed class DomainLists
    {
        public DomainLists(int domains)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(domains, MinDomains);
            var deny = Math.Max(1, domains / 100);
            var cloud = domains * 3 / 10;
            var partner = domains / 20;
            var internalCount = domains - deny - cloud - partner;

            for (var i = 0; i < deny; i++)
            {
                DenySuffixes.Add(Invariant($"share-{i}.example.net"));
            }

            for (var i = 0; i < cloud; i++)
            {
                var j = i / 4;
                var service = CloudServices[j % CloudServices.Length];
                var region = Region(j / CloudServices.Length);
                switch (i % 4)
                {
                    case 0: CloudExact.Add($"{service}.{region}.amazonaws.com"); break;
                    case 1: CloudExact.Add($"{service}-fips.{region}.amazonaws.com"); break;
                    case 2: CloudExact.Add(Invariant($"vpce-{j:x8}.{service}.{region}.vpce.amazonaws.com")); break;
                    default:
                        CloudSuffixes.Add($"{CloudBucketServices[j % CloudBucketServices.Length]}.{Region(j / CloudBucketServices.Length)}.amazonaws.com");
                        break;
                }
            }

            for (var i = 0; i < partner; i++)
            {
                if (i % 2 == 0)
                {
                    PartnerExact.Add(Invariant($"hooks.partner-{i / 2}.example.net"));
                }
                else
                {
                    PartnerSuffixes.Add(Invariant($"partner-{i / 2}.example.io"));
                }
            }

            for (var i = 0; i < internalCount; i++)
            {
                var j = i / 8;
                switch (i % 8)
                {
                    case 0: InternalExact.Add(Invariant($"svc-{j}.example.com")); break;
                    case 1: InternalExact.Add(Invariant($"api.team-{j}.example.org")); break;
                    case 2: InternalExact.Add(Invariant($"svc-{j}.prod.internal.example.net")); break;
                    case 3: InternalExact.Add(Invariant($"v2.api.team-{j}.example.org")); break;
                    case 4: InternalExact.Add(Invariant($"app-{j}.example.com")); break;
                    case 5: InternalExact.Add(Invariant($"db-{j}.eu.corp.example.net")); break;
                    case 6: InternalSuffixes.Add(Invariant($"tenant-{j}.example.org")); break;
                    default: InternalSuffixes.Add(Invariant($"cdn-{j}.example.com")); break;
                }
            }
        }

        public List<string> DenySuffixes { get; } = [];

        public List<string> CloudExact { get; } = [];

        public List<string> CloudSuffixes { get; } = [];

        public List<string> PartnerExact { get; } = [];

        public List<string> PartnerSuffixes { get; } = [];

        public List<string> InternalExact { get; } = [];

        public List<string> InternalSuffixes { get; } = [];

        public bool IsListed(string name) =>
            InternalExact.Contains(name) || InternalSuffixes.Contains(name) || CloudExact.Contains(name) || PartnerExact.Contains(name);
    }

    private sealed class Clients(Random random)
    {
        /// <summary>A client the internal services admit: 10.0.0.0/8, or a unique local IPv6 address one time in ten.</summary>
        public IPAddress Internal() => random.Next(10) == 0
            ? IPAddress.Parse(Invariant($"fd12:3456:789a:{random.Next(16):x}::{random.Next(1, 0xffff):x}"))
            : new IPAddress([10, (byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(1, 255)]);

        /// <summary>A client the cloud rule admits: any of the organisation's private networks.</summary>
        public IPAddress Private() => random.Next(4) switch
        {
            0 => new IPAddress([172, (byte)random.Next(16, 32), (byte)random.Next(256), (byte)random.Next(1, 255)]),
            1 => new IPAddress([192, 168, (byte)random.Next(256), (byte)random.Next(1, 255)]),
            _ => Internal(),
        };

        /// <summary>A client outside the organisation (TEST-NET-2, RFC 5737).</summary>
        public IPAddress Public() => new([198, 51, 100, (byte)random.Next(1, 255)]);
    }
}
