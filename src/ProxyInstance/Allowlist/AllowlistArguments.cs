using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace EgressLab.ProxyInstance.Allowlist;

/// <summary>Which <c>allowlist</c> subcommand runs.</summary>
internal enum AllowlistAction
{
    Help,
    Suggest,
    Diff,
}

/// <summary>Where <c>--since</c> starts: a moment, or a time before now.</summary>
internal readonly record struct SinceArgument(DateTimeOffset? At, TimeSpan? Ago)
{
    public DateTimeOffset Resolve(TimeProvider clock) => At ?? clock.GetUtcNow() - Ago!.Value;
}

/// <summary>The command line of <c>ProxyInstance allowlist suggest|diff</c>.</summary>
internal sealed record AllowlistArguments
{
    public const int DefaultSiblings = 3;
    public const int DefaultClientPrefix = 24;
    public const int DefaultClientPrefix6 = 64;

    public const string Usage = """
        Usage: ProxyInstance allowlist suggest --from LOG [--from LOG ...] [options]
               ProxyInstance allowlist diff --config CANDIDATE --from LOG [--from LOG ...] [options]
               ProxyInstance allowlist --help

          suggest   print the smallest set of Allow rules, as a configuration file, that allows every request in the
                    logs that went through the proxy (allowed, or let through in report mode)
          diff      judge the logged requests with CANDIDATE's policy and list those it would deny

        Both:
          --from LOG              an access log, Squid format or JSON (the proxy's own, either format); "-" reads
                                  standard input, a name ending in .gz is decompressed; give it once per file
          --since WHEN            only requests since WHEN: a time before now (90s, 30m, 24h, 7d, 2w) or an
                                  ISO 8601 date or time (2026-12-01, 2026-12-01T08:00:00Z; UTC unless it says)
        suggest:
          --siblings N            suggest ".parent" once N names directly below it were seen (default 3, at least 2;
                                  0 lists every name as it is); never above a registrable domain, never for an address
          --client-prefix N       group IPv4 clients into /N networks (default 24; 32 keeps single addresses)
          --client-prefix6 N      group IPv6 clients into /N networks (default 64)
          --include-denied        learn from requests the policy denied too (by default only from those that went through)
        diff:
          --config CANDIDATE      the configuration to judge with; validated as --check-config does
          --show-allowed          also list what CANDIDATE would allow that was denied

        Exit codes: suggest 0 (rules printed), 1 (nothing in the logs to learn from), 2 (bad arguments or input);
                    diff 0 (nothing would be denied), 1 (something would be denied), 2 (bad arguments or input,
                    an invalid candidate, or no request in the logs to judge).
        """;

    public required AllowlistAction Action { get; init; }

    /// <summary>The logs, in the order given; <c>-</c> is standard input.</summary>
    public IReadOnlyList<string> From { get; init; } = [];

    public SinceArgument? Since { get; init; }

    /// <summary>How many names directly below a parent make it a <c>.parent</c> suggestion; 0 turns parents off.</summary>
    public int Siblings { get; init; } = DefaultSiblings;

    public int ClientPrefix { get; init; } = DefaultClientPrefix;

    public int ClientPrefix6 { get; init; } = DefaultClientPrefix6;

    public bool IncludeDenied { get; init; }

    /// <summary>The candidate configuration (diff only).</summary>
    public string? ConfigPath { get; init; }

    public bool ShowAllowed { get; init; }

    /// <summary>Parses the arguments after <c>allowlist</c>; on failure <paramref name="error"/> says what is wrong and how to fix it.</summary>
    public static bool TryParse(IReadOnlyList<string> args, [NotNullWhen(true)] out AllowlistArguments? parsed, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        parsed = null;
        if (args.Count == 0)
        {
            error = "allowlist needs a subcommand: suggest or diff.";
            return false;
        }

        var action = args[0] switch
        {
            "suggest" => AllowlistAction.Suggest,
            "diff" => AllowlistAction.Diff,
            "--help" or "-h" or "help" => AllowlistAction.Help,
            _ => (AllowlistAction?)null,
        };
        if (action is null)
        {
            error = $"unknown allowlist subcommand '{args[0]}'; use suggest or diff.";
            return false;
        }

        if (action == AllowlistAction.Help)
        {
            parsed = new AllowlistArguments { Action = AllowlistAction.Help };
            error = null;
            return true;
        }

        var from = new List<string>();
        var result = new AllowlistArguments { Action = action.Value };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h")
            {
                parsed = new AllowlistArguments { Action = AllowlistAction.Help };
                error = null;
                return true;
            }

            if (!Applies(arg, action.Value))
            {
                error = IsOption(arg)
                    ? $"{arg} does not apply to allowlist {args[0]}."
                    : $"unknown argument '{arg}'.";
                return false;
            }

            if (arg is "--include-denied" or "--show-allowed")
            {
                result = arg == "--include-denied" ? result with { IncludeDenied = true } : result with { ShowAllowed = true };
                continue;
            }

            // Every other option takes a value.
            if (i + 1 >= args.Count || (args[i + 1].StartsWith("--", StringComparison.Ordinal)))
            {
                error = $"{arg} needs a value, as in: {arg} {Example(arg)}";
                return false;
            }

            var value = args[++i];
            if (arg != "--from" && !seen.Add(arg))
            {
                error = $"{arg} is given twice; give it once.";
                return false;
            }

            switch (arg)
            {
                case "--from":
                    from.Add(value);
                    break;
                case "--config":
                    result = result with { ConfigPath = value };
                    break;
                case "--since":
                    if (!TryParseSince(value, out var since))
                    {
                        error = $"--since '{value}' is neither a time before now (a number and a unit: 90s, 30m, 24h, 7d, 2w) nor an ISO 8601 date or time (2026-12-01, 2026-12-01T08:00:00Z).";
                        return false;
                    }

                    result = result with { Since = since };
                    break;
                default:
                    // The numeric options: --siblings, --client-prefix, --client-prefix6.
                    var (max, meaning) = arg switch
                    {
                        "--siblings" => (1000, "a whole number from 2 to 1000, or 0 to list every name as it is"),
                        "--client-prefix" => (32, "an IPv4 prefix length from 0 to 32, such as 24"),
                        _ => (128, "an IPv6 prefix length from 0 to 128, such as 64"),
                    };
                    if (!TryParseNumber(value, 0, max, out var number) || (arg == "--siblings" && number == 1))
                    {
                        error = $"{arg} '{value}' must be {meaning}.";
                        return false;
                    }

                    result = arg switch
                    {
                        "--siblings" => result with { Siblings = number },
                        "--client-prefix" => result with { ClientPrefix = number },
                        _ => result with { ClientPrefix6 = number },
                    };
                    break;
            }
        }

        if (from.Count == 0)
        {
            error = "give at least one access log with --from FILE (or --from - for standard input).";
            return false;
        }

        if (from.Count(f => f == "-") > 1)
        {
            error = "--from - (standard input) can be given only once.";
            return false;
        }

        if (action == AllowlistAction.Diff && result.ConfigPath is null)
        {
            error = "allowlist diff needs the candidate configuration: --config FILE.";
            return false;
        }

        parsed = result with { From = from };
        error = null;
        return true;
    }

    /// <summary>Reads <c>--since</c>: a number with a unit (s, m, h, d, w), or an ISO 8601 date or time, UTC unless it says otherwise.</summary>
    public static bool TryParseSince(string text, out SinceArgument since)
    {
        since = default;
        if (text.Length >= 2 && char.IsAsciiLetter(text[^1]) && TryParseNumber(text[..^1], 0, 100_000, out var amount))
        {
            TimeSpan? ago = char.ToLowerInvariant(text[^1]) switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                'w' => TimeSpan.FromDays(7 * amount),
                _ => null,
            };
            since = new SinceArgument(null, ago);
            return ago is not null;
        }

        if (text.Length >= 10 && char.IsAsciiDigit(text[0])
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            since = new SinceArgument(at, null);
            return true;
        }

        return false;
    }

    private static bool TryParseNumber(string text, int min, int max, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    private static bool IsOption(string arg) => arg.StartsWith("--", StringComparison.Ordinal);

    private static bool Applies(string arg, AllowlistAction action) => arg switch
    {
        "--from" or "--since" => true,
        "--siblings" or "--client-prefix" or "--client-prefix6" or "--include-denied" => action == AllowlistAction.Suggest,
        "--config" or "--show-allowed" => action == AllowlistAction.Diff,
        _ => false,
    };

    private static string Example(string arg) => arg switch
    {
        "--from" => "/var/log/egress-proxy/access.log",
        "--config" => "candidate.json",
        "--since" => "24h",
        "--siblings" => "3",
        "--client-prefix" => "24",
        "--client-prefix6" => "64",
        _ => "VALUE",
    };
}
