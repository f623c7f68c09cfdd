using System.Net;
using EgressLab.ProxyInstance.Errors;

namespace EgressLab.ProxyInstance.AccessLog;

/// <summary>The one canonical record of a request or tunnel: what was asked, what was decided, what happened.</summary>
internal sealed record AccessLogEntry
{
    public required DateTimeOffset Time { get; init; }
    public required TimeSpan Duration { get; init; }
    public required IPAddress? Client { get; init; }
    public string? User { get; init; }
    public required string Method { get; init; }

    /// <summary>The URL for plain HTTP, <c>host:port</c> for a tunnel.</summary>
    public required string Target { get; init; }

    public required bool Tunnel { get; init; }
    public required int Status { get; init; }
    public required ProxyError Error { get; init; }

    /// <summary><c>allow</c>, <c>deny</c>, or <c>none</c> when the request never reached the policy.</summary>
    public required string Decision { get; init; }

    public string? Rule { get; init; }
    public string? Reason { get; init; }
    public IPAddress? Upstream { get; init; }
    public string? Sni { get; init; }

    /// <summary>Bytes from the client towards the destination (request body, or tunnel upload).</summary>
    public long BytesUp { get; init; }

    /// <summary>Bytes sent to the client (response head and body, or tunnel download).</summary>
    public long BytesDown { get; init; }

    public TimeSpan DnsTime { get; init; }
    public TimeSpan ConnectTime { get; init; }
    public string? ContentType { get; init; }
    public string? Detail { get; init; }
}
