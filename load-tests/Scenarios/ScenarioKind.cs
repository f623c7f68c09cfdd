namespace EgressLab.LoadTests.Scenarios;

/// <summary>The scenarios of the origin contract (the lab's nginx at www.lab.test).</summary>
internal enum ScenarioKind
{
    /// <summary>GET /1k (1024 bytes) over plain HTTP, on keep-alive connections.</summary>
    HttpSmall,

    /// <summary>GET /1k over TLS (through a proxy, in a CONNECT tunnel), on keep-alive connections.</summary>
    HttpsSmall,

    /// <summary>GET /1k over a fresh TCP connection and TLS session per request, timed phase by phase.</summary>
    NewConnection,

    /// <summary>GET /10m (10 MiB), for throughput.</summary>
    Bulk,

    /// <summary>POST 1 MiB of incompressible bytes to /upload, which answers 200 "ok\n".</summary>
    Upload,
}

internal static class ScenarioCatalog
{
    public const int SmallBytes = 1024;
    public const int BulkBytes = 10 * 1024 * 1024;
    public const int UploadBytes = 1024 * 1024;

    public static IReadOnlyList<string> Names { get; } = ["http-small", "https-small", "new-connection", "bulk", "upload"];

    public static string NameOf(ScenarioKind kind) => Names[(int)kind];

    public static bool TryParse(string? name, out ScenarioKind kind)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if (string.Equals(Names[i], name?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                kind = (ScenarioKind)i;
                return true;
            }
        }

        kind = default;
        return false;
    }

    public static string PathOf(ScenarioKind kind) => kind switch
    {
        ScenarioKind.Bulk => "/10m",
        ScenarioKind.Upload => "/upload",
        _ => "/1k",
    };

    /// <summary>The body size a 2xx answer must have, or null when any size will do.</summary>
    public static long? ExpectedBytesDown(ScenarioKind kind) => kind switch
    {
        ScenarioKind.Bulk => BulkBytes,
        ScenarioKind.Upload => null,
        _ => SmallBytes,
    };

    /// <summary>The scheme a scenario must use, or null when either will do (then the one given in --url, or http).</summary>
    public static string? RequiredScheme(ScenarioKind kind) => kind switch
    {
        ScenarioKind.HttpSmall => Uri.UriSchemeHttp,
        ScenarioKind.HttpsSmall or ScenarioKind.NewConnection => Uri.UriSchemeHttps,
        _ => null,
    };
}
