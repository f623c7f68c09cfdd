using BenchmarkDotNet.Attributes;
using EgressLab.ProxyInstance.Policy;

namespace EgressLab.LoadTests.Bench;

/// <summary>
/// Times the policy decision the proxy makes for every request and tunnel, <see cref="CompiledPolicy.Decide"/>, against
/// an allowlist of <see cref="Domains"/> domains (<see cref="PolicyDecisionWorkload"/>). Run by BenchmarkDotNet through
/// <see cref="PolicyDecisionRun"/>.
/// </summary>
/// <remarks>
/// The timed call is the one <c>ForwardProxyHandler</c> and <c>TunnelHandler</c> make, host normalisation (case,
/// trailing dot) included, since <see cref="CompiledPolicy.Decide"/> does it per request. One invocation decides all
/// <see cref="PolicyDecisionWorkload.QueryCount"/> different requests, so neither the branch predictor nor the caches see
/// one request repeated, and BenchmarkDotNet divides by that count. Every request's decision is checked in the setup,
/// before anything is timed. BenchmarkDotNet needs the class public and not sealed: it derives from it.
/// </remarks>
[MemoryDiagnoser]
#pragma warning disable CA1515 // BenchmarkDotNet only runs public benchmark classes.
public class PolicyDecisionBenchmark
#pragma warning restore CA1515
{
    /// <summary>Patterns in the allowlist.</summary>
    public const int Domains = 10_000;

    private CompiledPolicy? _policy;
    private PolicyRequest[] _requests = [];

    /// <summary>Builds the allowlist and the requests, and checks every request's decision.</summary>
    /// <exception cref="InvalidOperationException">The policy decided a request otherwise than expected.</exception>
    [GlobalSetup]
    public void Setup()
    {
        var workload = PolicyDecisionWorkload.Create(Domains);
        PolicyDecisionWorkload.Verify(workload.Policy, workload.Queries);
        _policy = workload.Policy;
        _requests = [.. workload.Queries.Select(q => q.Request)];
    }

    /// <summary>Decides every request once.</summary>
    /// <returns>How many were allowed, which BenchmarkDotNet consumes so the JIT cannot drop the work as unused.</returns>
    [Benchmark(OperationsPerInvoke = PolicyDecisionWorkload.QueryCount)]
    public int Decide()
    {
        var policy = _policy!;
        var allowed = 0;
        foreach (ref readonly var request in _requests.AsSpan())
        {
            if (policy.Decide(in request).IsAllowed)
            {
                allowed++;
            }
        }

        return allowed;
    }
}
