using EgressLab.ProxyInstance.Configuration;
namespace EgressLab.ProxyInstance.Lifetime;

/// <summary>
/// Fires when the drain time after SIGTERM has run out. Tunnels run until both sides close or this fires;
/// Kestrel's own connection-closed token cannot be used for that, because it also fires when the client
/// merely half-closes its side of a tunnel.
/// </summary>
internal sealed class DrainSignal : IDisposable
{
    private readonly CancellationTokenSource _expired;
    private readonly CancellationTokenRegistration _registration;

    public DrainSignal(IHostApplicationLifetime lifetime, RuntimeSettingsStore settings, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        ArgumentNullException.ThrowIfNull(settings);
        _expired = new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider);
        _registration = lifetime.ApplicationStopping.Register(() => _expired.CancelAfter(settings.Startup.DrainTimeout));
    }

    public CancellationToken DrainExpired => _expired.Token;

    public void Dispose()
    {
        _registration.Dispose();
        _expired.Dispose();
    }
}
