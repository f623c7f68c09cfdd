using Microsoft.AspNetCore.Http.Features;

namespace EgressLab.ProxyInstance.Forwarding;

/// <summary>
/// Kestrel's upgrade feature for a request that asks for an upgrade (a WebSocket), handing the forwarder a stream that
/// counts what it relays each way after the <c>101</c>: those bytes bypass the request and response bodies that the
/// access log counts for every other request.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable",
    Justification = "The upgraded stream belongs to the caller of UpgradeAsync, which disposes it; this only reads its counts.")]
internal sealed class CountingUpgradeFeature(IHttpUpgradeFeature inner) : IHttpUpgradeFeature
{
    private CountingStream? _stream;

    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    /// <summary>Bytes the client sent after the upgrade; 0 when there was none.</summary>
    public long BytesUp => _stream?.BytesRead ?? 0;

    /// <summary>Bytes sent to the client after the upgrade; 0 when there was none.</summary>
    public long BytesDown => _stream?.BytesWritten ?? 0;

    /// <summary>Puts a counting feature in place of Kestrel's when the request asks for an upgrade; null otherwise.</summary>
    public static CountingUpgradeFeature? Install(IFeatureCollection features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true } upgrade)
        {
            return null;
        }

        var counting = new CountingUpgradeFeature(upgrade);
        features.Set<IHttpUpgradeFeature>(counting);
        return counting;
    }

    public async Task<Stream> UpgradeAsync()
    {
        var upgraded = await inner.UpgradeAsync().ConfigureAwait(false);
        _stream = new CountingStream(upgraded, ownsInner: true);
        return _stream;
    }
}
