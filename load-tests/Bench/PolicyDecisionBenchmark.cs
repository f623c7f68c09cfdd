using EgressLab.ProxyInstance.Policy;

namespace EgressLab.LoadTests.Bench;

/// <summary>
/// Times the policy decision the proxy makes for every request and tunnel, <see cref="CompiledPolicy.Decide"/>, against
/// an allowlist of many domains (<see cref="PolicyDecisionWorkload"/>).
/// </summary>
/// <remarks>
/// The timed call is the one <c>ForwardProxyHandler</c> and <c>TunnelHandler</c> make, host normalisation (case,
/// trailing dot) included, since <see cref="CompiledPolicy.Decide"/> does it per request. The requests rotate through
/// <see cref="PolicyDecisionWorkload.QueryCount"/> different ones, so neither the branch predictor nor the caches see
/// one request repeated. Every request's decision is checked before anything is timed.
/// </remarks>
internal static class PolicyDecisionBenchmark
{
    public const int DefaultDomains = 10_000;

    public const string Name = "policy decision";

    /// <summary>Builds and checks the workload, then times <see cref="CompiledPolicy.Decide"/> with it.</summary>
    /// <param name="domains">Patterns in the allowlist, at least <see cref="PolicyDecisionWorkload.MinDomains"/>.</param>
    /// <param name="mode">Full for a figure, Quick to prove it runs.</param>
    /// <param name="progress">Receives two short lines.</param>
    /// <param name="cancellationToken">Stops the run between batches.</param>
    /// <exception cref="InvalidOperationException">The policy decided a request otherwise than expected.</exception>
    public static MicroBenchmarkResult Run(int domains, MicroBenchmarkMode mode, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var workload = PolicyDecisionWorkload.Create(domains);
        PolicyDecisionWorkload.Verify(workload.Policy, workload.Queries);
        var requests = workload.Queries.Select(q => q.Request).ToArray();
        return MicroBenchmark.Run(
            Name,
            new DecideOperation(workload.Policy, requests),
            MicroBenchmarkOptions.For(mode),
            typeof(CompiledPolicy).Assembly,
            progress,
            cancellationToken);
    }

    private sealed class DecideOperation : IMicroBenchmarkOperation
    {
        private readonly CompiledPolicy _policy;
        private readonly PolicyRequest[] _requests;

        public DecideOperation(CompiledPolicy policy, PolicyRequest[] requests)
        {
            // A power of two, so picking the next request is a mask rather than a division.
            if (!int.IsPow2(requests.Length))
            {
                throw new ArgumentException("The number of requests must be a power of two.", nameof(requests));
            }

            _policy = policy;
            _requests = requests;
        }

        public long Invoke(long count)
        {
            var policy = _policy;
            var requests = _requests;
            var mask = requests.Length - 1;
            long allowed = 0;
            for (long i = 0; i < count; i++)
            {
                if (policy.Decide(in requests[(int)i & mask]).IsAllowed)
                {
                    allowed++;
                }
            }

            return allowed;
        }
    }
}
