using System.Net;
using EgressLab.ProxyInstance.Authentication;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Errors;
using EgressLab.ProxyInstance.Limits;
using EgressLab.ProxyInstance.Metrics;
using EgressLab.ProxyInstance.Policy;
using EgressLab.ProxyInstance.Targets;

namespace EgressLab.ProxyInstance.Admission;

/// <summary>Which front-end a request came through; the <c>kind</c> label of metrics and the access log.</summary>
internal enum AdmissionPath
{
    /// <summary>A plain-HTTP request in absolute form.</summary>
    Http,

    /// <summary>A CONNECT tunnel.</summary>
    Tunnel,
}

/// <summary>What the gate needs to know of a request, from either front-end.</summary>
/// <param name="Client">The client's address (IPv4-mapped addresses already unmapped).</param>
/// <param name="Method">The method as received; <c>CONNECT</c> for a tunnel.</param>
/// <param name="Host">The destination host as the client wrote it, without IPv6 brackets or with them.</param>
/// <param name="Port">The destination port.</param>
/// <param name="ProxyAuthorization">The <c>Proxy-Authorization</c> field as received, or null.</param>
/// <param name="Path">The front-end.</param>
internal readonly record struct AdmissionRequest(IPAddress Client, string Method, string Host, int Port, string? ProxyAuthorization, AdmissionPath Path);

/// <summary>
/// The gate's answer: admitted, with the destination, the user and the deciding rule; or refused, with the outcome
/// and the detail the client is told. The front-end makes the error response, the metrics and the one access-log
/// record from it.
/// </summary>
internal readonly record struct AdmissionOutcome(
    ProxyError Error, string? Detail, EgressTarget Target, string? User, PolicyDecision? Decision, TimeSpan? RetryAfter)
{
    public bool IsAdmitted => Error == ProxyError.None;

    /// <summary>The decision label of the access log and metrics: allow, deny, would_deny, or none when the policy never ran.</summary>
    public string DecisionLabel => DecisionLabels.Of(Decision);
}

/// <summary>The decision labels, defined once: the access log's <c>decision</c> and the metrics' <c>decision</c> label.</summary>
internal static class DecisionLabels
{
    public const string Allow = "allow";
    public const string Deny = "deny";

    /// <summary>The policy denies the request but only reports it (<see cref="PolicyMode.Report"/>): it went through.</summary>
    public const string WouldDeny = "would_deny";
    public const string None = "none";

    /// <summary>The metrics' <c>rule</c> label when no rule matched and the default action decided.</summary>
    public const string DefaultRule = "default";

    public static string Of(PolicyDecision? decision) =>
        decision is null ? None : decision.WouldDeny ? WouldDeny : decision.IsAllowed ? Allow : Deny;

    public static string Kind(AdmissionPath path) => path == AdmissionPath.Tunnel ? "tunnel" : "http";
}

/// <summary>
/// The one admission gate of both front-ends: the per-client rate limit, proxy authentication, the destination's
/// canonical form (<see cref="EgressTarget"/>) and the policy, in that order, each request counted once in
/// <c>proxy_requests_total</c>. A denial the policy only reports admits the request, counted as <c>would_deny</c>:
/// the checks before the policy, and the SSRF guard and tunnel checks after it, are never report-only. Nothing here touches a socket or writes a response; the caller does, from the outcome.
/// </summary>
internal sealed class AdmissionGate(ClientLimits limits, ProxyMetrics metrics)
{
    public AdmissionOutcome Admit(in AdmissionRequest request, RuntimeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!limits.TryTakeRequest(request.Client, settings.RequestRatePerClient, out var wait))
        {
            return Refuse(ProxyError.RateLimited, RateDetail(settings), retryAfter: wait);
        }

        string? user = null;
        if (settings.Credentials is { } credentials)
        {
            if (!BasicCredentials.TryParse(request.ProxyAuthorization, out var name, out var password) || !credentials.Verify(name, password))
            {
                return Refuse(ProxyError.AuthenticationRequired, null);
            }

            user = name;
        }

        if (!EgressTarget.TryCreate(request.Host, request.Port, out var target))
        {
            return Refuse(ProxyError.InvalidRequest, InvalidHostDetail(request.Host), user: user);
        }

        var decision = Decide(settings, request.Client, user, request.Method, target);
        metrics.RecordRequest(DecisionLabels.Of(decision), decision.RuleName ?? DecisionLabels.DefaultRule, DecisionLabels.Kind(request.Path));
        return decision.IsAllowed
            ? new AdmissionOutcome(ProxyError.None, null, target, user, decision, null)
            : new AdmissionOutcome(ProxyError.AccessDenied, PolicyDetail(decision), target, user, decision, null);
    }

    /// <summary>
    /// The policy's decision on a request already past the rate limit and authentication, its destination in canonical
    /// form: what <see cref="Admit"/> asks, and what <c>allowlist diff</c> asks of a candidate configuration.
    /// </summary>
    internal static PolicyDecision Decide(RuntimeSettings settings, IPAddress client, string? user, string method, in EgressTarget target) =>
        settings.Policy.Decide(new PolicyRequest(client, user, method, target.Host, target.Port));

    /// <summary>What a client is told when its host is neither a valid name nor an address; the same on both paths.</summary>
    internal static string InvalidHostDetail(string host) => $"'{host}' is not a valid host name or address";

    /// <summary>Says how a client's request rate is limited, for the 429 it gets.</summary>
    internal static string RateDetail(RuntimeSettings settings) => settings.RequestRatePerClient is { } rate
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Limits:RequestsPerSecondPerClient allows {rate.PerSecond} per second, {rate.Burst} at once")
        : "no rate limit is set";

    internal static string PolicyDetail(PolicyDecision decision) => decision.RuleName is { } rule
        ? $"rule '{rule}'"
        : "no rule allows it and the default action is Deny";

    private static AdmissionOutcome Refuse(ProxyError error, string? detail, string? user = null, TimeSpan? retryAfter = null) =>
        new(error, detail, default, user, null, retryAfter);
}
