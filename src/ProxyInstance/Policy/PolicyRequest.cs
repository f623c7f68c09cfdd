using System.Net;

namespace EgressLab.ProxyInstance.Policy;

/// <summary>The facts about a request that the policy decides on.</summary>
/// <param name="Client">Address of the connected client. An IPv4-mapped IPv6 address matches IPv4 CIDRs.</param>
/// <param name="User">Authenticated user name, or <see langword="null"/> when the request is not authenticated.</param>
/// <param name="Method">HTTP method as received (<c>CONNECT</c> for tunnels); compared case-sensitively (RFC 9110 section 9.1).</param>
/// <param name="Host">
/// Destination: a DNS name as received (any case, perhaps one trailing dot, perhaps Unicode) or an IP literal in
/// canonical form, IPv6 optionally in brackets.
/// </param>
/// <param name="Port">Destination port.</param>
internal readonly record struct PolicyRequest(IPAddress Client, string? User, string Method, string Host, int Port);
