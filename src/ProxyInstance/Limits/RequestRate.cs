namespace EgressLab.ProxyInstance.Limits;

/// <summary>
/// A per-client request rate: a token bucket that refills at <see cref="PerSecond"/> and holds at most
/// <see cref="Burst"/> requests.
/// </summary>
internal sealed record RequestRate(double PerSecond, int Burst);
