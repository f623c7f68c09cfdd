using System.Net;
using EgressLab.ProxyInstance.Errors;
using EgressLab.ProxyInstance.Targets;
using EgressLab.ProxyInstance.Admission;
using EgressLab.ProxyInstance.Egress;

namespace EgressLab.ProxyInstance.AccessLog;

/// <summary>The one canonical record of a request or tunnel: what was asked, what was decided, what happened.</summary>
/// <remarks>
/// Settable, so that a request's path fills in one entry as it goes instead of copying it at every step; nothing
/// changes an entry once it is handed to <see cref="AccessLogWriter.Write"/>.
/// </remarks>
internal sealed record AccessLogEntry
{
    /// <summary>When the request or tunnel began, as a <see cref="System.Diagnostics.Stopwatch"/> timestamp: the line's duration runs from it.</summary>
    public long Started { get; init; }

    public required DateTimeOffset Time { get; set; }
    public required TimeSpan Duration { get; set; }
    public required IPAddress? Client { get; set; }
    public string? User { get; set; }
    public required string Method { get; set; }

    /// <summary>The URL for plain HTTP, <c>host:port</c> for a tunnel.</summary>
    public required string Target { get; set; }

    /// <summary>
    /// The destination as the policy judged it (<see cref="EgressTarget"/>: canonical host and port), once admission
    /// made it; null when the request never got that far.
    /// </summary>
    /// <remarks>Kept as the target, not text: only the JSON format writes it, on the writer's thread.</remarks>
    public EgressTarget? Destination { get; set; }

    public required bool Tunnel { get; set; }
    /// <summary>The status the client got: 0 when it got none (it left before the response began).</summary>
    public required int Status { get; set; }

    /// <summary>The client left (reset) before the transaction completed; Squid's <c>_ABORTED</c>.</summary>
    public bool ClientAborted { get; set; }
    public required ProxyError Error { get; set; }

    /// <summary><c>allow</c>, <c>deny</c>, <c>would_deny</c> (denied in report mode, let through), or <c>none</c> when the request never reached the policy.</summary>
    public required string Decision { get; set; }

    public string? Rule { get; set; }
    public string? Reason { get; set; }
    public IPAddress? Upstream { get; set; }
    public string? Sni { get; set; }

    /// <summary>Bytes from the client towards the destination (request body, or tunnel upload).</summary>
    public long BytesUp { get; set; }

    /// <summary>Bytes sent to the client (response head and body, or tunnel download).</summary>
    public long BytesDown { get; set; }

    public TimeSpan DnsTime { get; set; }
    public TimeSpan ConnectTime { get; set; }
    public string? ContentType { get; set; }
    public string? Detail { get; set; }

    /// <summary>A tunnel's entry as its CONNECT arrives: nothing decided, nothing sent yet.</summary>
    public static AccessLogEntry ForTunnel(DateTimeOffset time, long started, IPAddress? client, string target) => new()
    {
        Time = time,
        Started = started,
        Duration = TimeSpan.Zero,
        Client = client,
        Method = "CONNECT",
        Target = target,
        Tunnel = true,
        Status = 0,
        Error = ProxyError.None,
        Decision = DecisionLabels.None,
    };

    /// <summary>Takes the admission's user and decision, on either path.</summary>
    public void Admitted(in AdmissionOutcome outcome)
    {
        User = outcome.User;
        Destination = outcome.Target.Host is null ? null : outcome.Target;
        Decision = outcome.DecisionLabel;
        Rule = outcome.Decision?.RuleName;
        Reason = outcome.Decision?.Reason.ToString();
    }

    /// <summary>Takes where the connection went and how long it took to open, on either path.</summary>
    public void Dialled(in EgressResult egress)
    {
        Upstream = egress.Address;
        DnsTime = egress.DnsTime;
        ConnectTime = egress.ConnectTime;
    }
}
