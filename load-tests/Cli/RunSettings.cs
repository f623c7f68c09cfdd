using System.Globalization;
using EgressLab.LoadTests.Load;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Scenarios;
using EgressLab.LoadTests.Thresholds;

namespace EgressLab.LoadTests.Cli;

/// <summary>The values of <c>run</c>'s options as typed, before they are checked.</summary>
internal sealed record RunArguments
{
    public string? Scenario { get; init; }
    public string? Url { get; init; }
    public string? Proxy { get; init; }
    public string? Rate { get; init; }
    public string? Concurrency { get; init; }
    public string? Duration { get; init; }
    public string? WarmUp { get; init; }
    public string? Ladder { get; init; }
    public string? MaxInFlight { get; init; }
    public string? Connections { get; init; }
    public string? Timeout { get; init; }
    public string? UploadSize { get; init; }
    public IReadOnlyList<string> Asserts { get; init; } = [];
    public string? Json { get; init; }
    public string? CaFile { get; init; }
    public bool Quiet { get; init; }
}

/// <summary>A <c>run</c>, checked and ready: what to request, through what, under which load, judged how.</summary>
internal sealed record RunSettings
{
    public const int DefaultUsers = 8;
    public const int DefaultMaxInFlight = 1000;
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan DefaultWarmUp = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The most time requests outstanding at the end of a window get before they are cancelled (never more than
    /// the request timeout).</summary>
    public static readonly TimeSpan MaxGrace = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan LongestWindow = TimeSpan.FromHours(24);
    private const long MaxUploadBytes = 1024L * 1024 * 1024;

    public required ScenarioKind Scenario { get; init; }
    public required Uri Target { get; init; }
    public required ProxyChoice Proxy { get; init; }
    public required LoadPlan Plan { get; init; }

    /// <summary>Rates of a ladder, rising; null for a single run.</summary>
    public IReadOnlyList<double>? Ladder { get; init; }
    public required IReadOnlyList<Threshold> Thresholds { get; init; }
    public string? JsonPath { get; init; }
    public required CertificateTrust Trust { get; init; }
    public required TimeSpan Timeout { get; init; }

    /// <summary>HTTP scenarios: the most connections, 0 for no limit.</summary>
    public int Connections { get; init; }

    /// <summary>upload: the size of each request's body. The default is <see cref="ScenarioCatalog.UploadBytes"/> (1 MiB).</summary>
    public int UploadBytes { get; init; } = ScenarioCatalog.UploadBytes;
    public bool Quiet { get; init; }

    public string ScenarioName => ScenarioCatalog.NameOf(Scenario);

    /// <summary>The origin as requested, without the scenario's path: what <c>RunResults.Url</c> reports.</summary>
    public string BaseUrl
    {
        get
        {
            var path = Target.AbsolutePath;
            var scenarioPath = ScenarioCatalog.PathOf(Scenario);
            var prefix = path.EndsWith(scenarioPath, StringComparison.Ordinal) ? path[..^scenarioPath.Length] : path;
            return Target.GetLeftPart(UriPartial.Authority) + prefix;
        }
    }

    /// <summary>Checks every value and reports every problem at once, each with how to fix it.</summary>
    public static RunSettings? TryCreate(RunArguments arguments, Func<string, string?> environment, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;

        ScenarioKind scenario = default;
        var scenarioKnown = ScenarioCatalog.TryParse(arguments.Scenario, out scenario);
        if (!scenarioKnown)
        {
            errors.Add($"--scenario '{arguments.Scenario}' is unknown: use one of {string.Join(", ", ScenarioCatalog.Names)}.");
        }

        Uri? target = null;
        ProxyChoice? proxy = null;
        if (scenarioKnown)
        {
            if (!OriginTarget.TryResolve(arguments.Url, scenario, out target, out var urlError))
            {
                errors.Add(urlError!);
            }
            else if (!ProxySelection.TryChoose(target!, arguments.Proxy, environment, out proxy, out var proxyError))
            {
                errors.Add(proxyError!);
            }
        }

        var duration = Duration("--duration", arguments.Duration, DefaultDuration, allowZero: false, errors);
        var warmUp = Duration("--warmup", arguments.WarmUp, DefaultWarmUp, allowZero: true, errors);
        var timeout = Duration("--timeout", arguments.Timeout, DefaultTimeout, allowZero: false, errors);
        var rate = Number("--rate", arguments.Rate, 1_000_000, "requests per second, such as --rate 200", errors);
        var users = Integer("--concurrency", arguments.Concurrency, 100_000, "users, such as --concurrency 8", errors);
        var maxInFlight = Integer("--max-in-flight", arguments.MaxInFlight, 1_000_000, "requests, such as --max-in-flight 1000", errors);
        var connections = Integer("--connections", arguments.Connections, 100_000, "connections, such as --connections 1", errors);
        var ladder = ParseLadder(arguments.Ladder, errors);
        var uploadBytes = UploadSize(arguments.UploadSize, errors);
        if (arguments.UploadSize is not null && scenarioKnown && scenario != ScenarioKind.Upload)
        {
            errors.Add($"--upload-size sets the body of the upload scenario: drop it, or use --scenario upload.");
        }

        if (arguments.Rate is not null && arguments.Concurrency is not null)
        {
            errors.Add("--rate and --concurrency exclude each other: --rate N offers N requests/s (open model), --concurrency N runs N users (closed model).");
        }

        if (arguments.Ladder is not null && (arguments.Rate is not null || arguments.Concurrency is not null))
        {
            errors.Add("--ladder runs the open model at each of its rates: drop --rate and --concurrency, or drop --ladder.");
        }

        var open = arguments.Rate is not null || arguments.Ladder is not null;
        if (!open && arguments.MaxInFlight is not null)
        {
            errors.Add("--max-in-flight bounds the open model: use it with --rate or --ladder (with --concurrency N, N requests are in flight).");
        }

        if (!open && arguments.Connections is not null)
        {
            errors.Add("--connections limits the open model's connections: use it with --rate or --ladder (with --concurrency N, N users use at most N connections).");
        }

        if (arguments.Connections is not null && scenarioKnown && scenario == ScenarioKind.NewConnection)
        {
            errors.Add("--connections does not apply to new-connection, which opens a connection per request.");
        }

        var thresholds = new List<Threshold>();
        foreach (var expression in arguments.Asserts)
        {
            if (Threshold.TryParse(expression, out var threshold, out var thresholdError))
            {
                thresholds.Add(threshold!);
            }
            else
            {
                errors.Add(thresholdError!);
            }
        }

        if (arguments.Json is { } json)
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(json));
            if (json.Trim().Length == 0 || (directory is not null && !Directory.Exists(directory)))
            {
                errors.Add($"--json '{json}': the directory does not exist; give a file in an existing directory.");
            }
        }

        CertificateTrust? trust = null;
        if (!CertificateTrust.TryLoad(arguments.CaFile, environment, out trust, out var trustError))
        {
            errors.Add(trustError!);
        }

        if (errors.Count > before)
        {
            trust?.Dispose();
            return null;
        }

        var plan = new LoadPlan
        {
            Model = open ? LoadModel.Open : LoadModel.Closed,
            Rate = rate ?? 0,
            Users = users ?? DefaultUsers,
            MaxInFlight = maxInFlight ?? DefaultMaxInFlight,
            Duration = duration,
            WarmUp = warmUp,
            Grace = timeout < MaxGrace ? timeout : MaxGrace,
        };
        return new RunSettings
        {
            Scenario = scenario,
            Target = target!,
            Proxy = proxy!,
            Plan = plan,
            Ladder = ladder,
            Thresholds = thresholds,
            JsonPath = arguments.Json,
            Trust = trust!,
            Timeout = timeout,
            Connections = plan.Model == LoadModel.Open ? connections ?? 0 : plan.Users,
            UploadBytes = uploadBytes ?? ScenarioCatalog.UploadBytes,
            Quiet = arguments.Quiet,
        };
    }

    private static TimeSpan Duration(string option, string? text, TimeSpan fallback, bool allowZero, List<string> errors)
    {
        if (text is null)
        {
            return fallback;
        }

        if (!DurationText.TryParse(text, out var duration) || duration > LongestWindow || (!allowZero && duration <= TimeSpan.Zero))
        {
            var range = allowZero ? "0 or more" : "more than 0";
            errors.Add($"{option} '{text}' is not a duration: write {DurationText.Forms} ({range}, at most 24h).");
            return fallback;
        }

        return duration;
    }

    private static double? Number(string option, string? text, double max, string example, List<string> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || !(value > 0) || value > max)
        {
            errors.Add($"{option} '{text}' is not a positive number up to {max.ToString(CultureInfo.InvariantCulture)}: give {example}.");
            return null;
        }

        return value;
    }

    private static int? Integer(string option, string? text, int max, string example, List<string> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1 || value > max)
        {
            errors.Add($"{option} '{text}' is not a whole number from 1 to {max.ToString(CultureInfo.InvariantCulture)}: give {example}.");
            return null;
        }

        return value;
    }

    /// <summary>A body size: a whole number of bytes, or of KiB or MiB (<c>512KiB</c>, <c>100MiB</c>), from 1 byte to 1 GiB.</summary>
    internal static int? UploadSize(string? text, List<string> errors)
    {
        if (text is null)
        {
            return null;
        }

        var trimmed = text.Trim();
        var (digits, unit) = trimmed.EndsWith("MiB", StringComparison.OrdinalIgnoreCase) ? (trimmed[..^3], 1024L * 1024)
            : trimmed.EndsWith("KiB", StringComparison.OrdinalIgnoreCase) ? (trimmed[..^3], 1024L)
            : trimmed.EndsWith('B') ? (trimmed[..^1], 1L)
            : (trimmed, 1L);
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1 || count * unit > MaxUploadBytes)
        {
            errors.Add($"--upload-size '{text}' is not a size from 1 byte to 1 GiB: give bytes, KiB or MiB, such as --upload-size 100MiB.");
            return null;
        }

        return (int)(count * unit);
    }

    /// <summary>Rising offered rates, comma-separated; adds an error and returns null when they are not. Also used by compare.</summary>
    internal static List<double>? ParseLadder(string? text, List<string> errors)
    {
        if (text is null)
        {
            return null;
        }

        var rates = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var rate) || !(rate > 0) || rate > 1_000_000
                || (rates.Count > 0 && rate <= rates[^1]))
            {
                errors.Add($"--ladder '{text}' is not a list of rising rates: give requests per second separated by commas, such as --ladder 50,100,200,400.");
                return null;
            }

            rates.Add(rate);
        }

        if (rates.Count > 50)
        {
            errors.Add($"--ladder has {rates.Count.ToString(CultureInfo.InvariantCulture)} steps: give at most 50.");
            return null;
        }

        return rates;
    }
}
