using System.Net;

namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>One request for a client to send through the proxy, as a user of that client would.</summary>
/// <param name="Url">The target: http:// is sent to the proxy in absolute form, https:// through a CONNECT tunnel.</param>
/// <param name="Proxy">The proxy, without credentials.</param>
/// <param name="ProxyCredentials">Basic credentials for the proxy, or none.</param>
/// <param name="CaPath">The PEM file of the only CA the client may trust for the origin's certificate.</param>
/// <param name="UploadPath">A file to POST as the body, or none for a GET.</param>
/// <param name="BodyPath">Where the client writes the response body.</param>
/// <param name="Home">An empty directory for the client's HOME and scratch files.</param>
internal sealed record ClientRequest(Uri Url, Uri Proxy, NetworkCredential? ProxyCredentials, string CaPath, string? UploadPath, string BodyPath, string Home)
{
    /// <summary>The proxy URL with the credentials in it, percent-encoded, as clients configured by URL take them.</summary>
    public string ProxyUrlWithCredentials => ProxyCredentials is null
        ? Proxy.ToString()
        : $"http://{Uri.EscapeDataString(ProxyCredentials.UserName)}:{Uri.EscapeDataString(ProxyCredentials.Password)}@{Proxy.Authority}/";
}

/// <summary>What a client reports: the final response, or that it failed without one.</summary>
/// <param name="Status">The status of the response to the request, or null when the client got none (e.g. a refused tunnel).</param>
/// <param name="Headers">That response's headers, comma-joined per name.</param>
/// <param name="Diagnostics">What the client printed or threw, for failure messages and for its reason when it failed.</param>
internal sealed record ClientResponse(int? Status, IReadOnlyDictionary<string, string> Headers, string Diagnostics)
{
    public static ClientResponse Failed(string diagnostics) => new(null, new Dictionary<string, string>(), diagnostics);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public override string ToString() => $"status {Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}\n{Diagnostics}";
}

/// <summary>A real, unmodified HTTP client program (or library) that the interop matrix drives through the proxy.</summary>
internal interface IInteropClient
{
    /// <summary>Why the client cannot run on this machine (a missing tool), or null when it can.</summary>
    string? Unavailable { get; }

    /// <summary>Whether the client sends Basic proxy credentials with its first request, or only after a 407 challenge.</summary>
    bool SendsProxyCredentialsUpFront { get; }

    Task<ClientResponse> SendAsync(ClientRequest request, CancellationToken cancellationToken);
}
