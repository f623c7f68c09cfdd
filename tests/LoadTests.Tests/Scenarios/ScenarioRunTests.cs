using EgressLab.LoadTests.Load;
using EgressLab.LoadTests.Results;
using EgressLab.LoadTests.Scenarios;
using EgressLab.LoadTests.Tests.TestHost;

namespace EgressLab.LoadTests.Tests.Scenarios;

/// <summary>Every scenario, under the closed model, directly and through the real proxy: what the load generator counted
/// is what the origin served, byte for byte, with no errors.</summary>
public class ScenarioRunTests(LabFixture lab) : IClassFixture<LabFixture>
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(60);

    public static TheoryData<string, bool> Cases { get; } = new()
    {
        { "http-small", false },
        { "http-small", true },
        { "https-small", false },
        { "https-small", true },
        { "new-connection", false },
        { "new-connection", true },
        { "bulk", false },
        { "bulk", true },
        { "upload", false },
        { "upload", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task RunAsync_ClosedModel_CountsWhatTheOriginServed(string scenario, bool viaProxy)
    {
        Assert.True(ScenarioCatalog.TryParse(scenario, out var kind));

        // Directly the origin is 127.0.0.1 (its certificate names it); through the proxy it is www.lab.test, a name only
        // the proxy can resolve. bulk goes over https through the proxy and upload over https directly, so that both
        // schemes carry both.
        var https = ScenarioCatalog.RequiredScheme(kind) == Uri.UriSchemeHttps
            || (kind == ScenarioKind.Bulk && viaProxy) || (kind == ScenarioKind.Upload && !viaProxy);
        var host = viaProxy ? LabOrigin.Name : "127.0.0.1";
        var url = https ? $"https://{host}:{lab.Origin.HttpsPort}" : $"http://{host}:{lab.Origin.HttpPort}";
        Assert.True(OriginTarget.TryResolve(url, kind, out var target, out var error), error);
        using var trust = lab.LoadTrust();
        using var operation = ScenarioFactory.Create(kind, target!, viaProxy ? lab.ProxyUri : null, trust, TimeSpan.FromSeconds(10), maxConnections: 2);
        var plan = new LoadPlan
        {
            Model = LoadModel.Closed,
            Users = 2,
            WarmUp = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(kind == ScenarioKind.Bulk ? 400 : 500),
            Grace = TimeSpan.FromSeconds(5),
        };
        var servedBefore = lab.Origin.TotalServed;
        var upBefore = lab.Origin.BytesUp;
        var runner = LoadRunner.Create(operation, plan);

        await runner.RunAsync(TestContext.Current.CancellationToken).WaitAsync(RunLimit, TestContext.Current.CancellationToken);
        var result = runner.Recorder.ToResult(scenario);

        Assert.Empty(result.Errors);
        Assert.True(result.Requests > 0, "no request completed");
        Assert.Equal(result.Requests, await lab.Origin.WaitForServedAsync(servedBefore + result.Requests) - servedBefore);
        var (down, up) = kind switch
        {
            ScenarioKind.Bulk => (ScenarioCatalog.BulkBytes, 0),
            ScenarioKind.Upload => (3, ScenarioCatalog.UploadBytes),
            _ => (ScenarioCatalog.SmallBytes, 0),
        };
        Assert.Equal(result.Requests * down, result.BytesDown);
        Assert.Equal(result.Requests * up, result.BytesUp);
        Assert.Equal(result.BytesUp, lab.Origin.BytesUp - upBefore);
        Assert.Equal(result.Requests, result.Corrected.Count);
        Assert.True(result.ThroughputMBps > 0);

        if (kind == ScenarioKind.NewConnection)
        {
            var phases = result.Phases!;
            string[] expected = viaProxy
                ? ["first-byte", "proxy-connect", "tcp-connect", "tls-handshake", "total"]
                : ["first-byte", "tcp-connect", "tls-handshake", "total"];

            // An address literal needs no lookup, so there is no dns phase.
            Assert.Equal(expected, phases.Keys.Order(StringComparer.Ordinal));
            Assert.All(phases.Values, summary => Assert.Equal(result.Requests, summary.Count));
            Assert.True(phases["total"].MaxMs >= phases["tls-handshake"].MaxMs);
        }
        else
        {
            Assert.Null(result.Phases);
        }
    }
}
