using EgressLab.LoadTests.Load;

namespace EgressLab.LoadTests.Scenarios;

/// <summary>Makes the operation that one request of a scenario is.</summary>
internal static class ScenarioFactory
{
    /// <param name="maxConnections">HTTP scenarios: the most connections to open, 0 for no limit.</param>
    /// <param name="uploadBytes">upload: the size of each request's body.</param>
    public static ILoadOperation Create(ScenarioKind kind, Uri target, Uri? proxy, CertificateTrust trust, TimeSpan timeout, int maxConnections,
        int uploadBytes = ScenarioCatalog.UploadBytes) =>
        kind == ScenarioKind.NewConnection
            ? new NewConnectionScenario(target, proxy, trust, timeout)
            : new HttpScenario(kind, target, proxy, trust, timeout, maxConnections, uploadBytes);
}
