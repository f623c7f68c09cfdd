using System.Collections.Frozen;
using System.Net.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;
using EgressLab.ProxyInstance.Connections;
using EgressLab.ProxyInstance.Tunnel;

namespace EgressLab.ProxyInstance.Forwarding;

/// <summary>
/// Header handling for forwarded requests and responses. YARP's base transformer already drops the
/// fixed hop-by-hop headers (Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade, Proxy-*); a proxy must
/// also drop every header the Connection field names (RFC 9110 §7.6.1), and never pass on credentials meant
/// for itself.
/// </summary>
/// <remarks>
/// Kestrel rewrites a request's Connection field to a bare <c>keep-alive</c> or <c>close</c> when it carries either
/// token, so the nominated names come from the head as the client sent it (<see cref="RequestHeadRecorder"/>).
/// See docs/decisions/0002-connection-nominated-headers.md.
/// </remarks>
internal sealed class ForwardingTransformer : HttpTransformer
{
    public const string ViaValue = "1.1 egress-proxy";

    // The fields System.Net.Http keeps on HttpContent rather than on the request (HttpContentHeaders).
    private static readonly FrozenSet<string> ContentFields = new[]
    {
        HeaderNames.Allow, HeaderNames.ContentDisposition, HeaderNames.ContentEncoding, HeaderNames.ContentLanguage,
        HeaderNames.ContentLength, HeaderNames.ContentLocation, HeaderNames.ContentMD5, HeaderNames.ContentRange,
        HeaderNames.ContentType, HeaderNames.Expires, HeaderNames.LastModified,
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private readonly bool _addVia;
    private readonly bool _addXForwardedFor;
    private readonly Uri _requestUri;
    private readonly IReadOnlyList<string>? _nominated;

    /// <param name="nominated">Names the request's Connection and Proxy-Connection fields list, as sent; null when
    /// unknown, and then the fields as Kestrel parsed them are used.</param>
    public ForwardingTransformer(Uri requestUri, IReadOnlyList<string>? nominated, bool addVia, bool addXForwardedFor)
    {
        _requestUri = requestUri;
        _nominated = nominated;
        _addVia = addVia;
        _addXForwardedFor = addXForwardedFor;
    }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(proxyRequest);
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        var incoming = httpContext.Request.Headers;
        if (_nominated is not null)
        {
            foreach (var name in _nominated)
            {
                Remove(name, proxyRequest.Headers, proxyRequest.Content?.Headers);
            }
        }
        else
        {
            RemoveNominated(incoming.Connection, proxyRequest.Headers, proxyRequest.Content?.Headers);
            RemoveNominated(incoming["Proxy-Connection"], proxyRequest.Headers, proxyRequest.Content?.Headers);
        }

        proxyRequest.Headers.Remove(HeaderNames.ProxyAuthorization);
        proxyRequest.Headers.Remove("Proxy-Connection");

        // The raw target, not a re-encoding of the decoded path: forward the bytes the client sent.
        proxyRequest.RequestUri = _requestUri;
        // No Host field of our own: the handler then writes the request URI's authority, host[:port] with the default
        // port left out, from bytes its connection pool keeps, instead of a new string parsed again on every request.
        proxyRequest.Headers.Host = null;

        if (_addVia)
        {
            proxyRequest.Headers.TryAddWithoutValidation(HeaderNames.Via, ViaValue);
        }

        if (_addXForwardedFor && httpContext.Connection.RemoteIpAddress is { } client)
        {
            var address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
            var existing = incoming["X-Forwarded-For"];
            proxyRequest.Headers.Remove("X-Forwarded-For");
            proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-For",
                StringValues.IsNullOrEmpty(existing) ? address.ToString() : $"{existing}, {address}");
        }
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var copied = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        if (proxyResponse is null)
        {
            return copied;
        }

        var headers = httpContext.Response.Headers;
        if (proxyResponse.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var nominated))
        {
            foreach (var value in nominated)
            {
                // Almost always a bare keep-alive, whose field the base transformer has dropped already: skip it without
                // making a string of it.
                foreach (var range in value.AsSpan().Split(','))
                {
                    var name = value.AsSpan(range).Trim(" \t");
                    if (!name.IsEmpty && !name.Equals("keep-alive", StringComparison.OrdinalIgnoreCase))
                    {
                        headers.Remove(name.ToString());
                    }
                }
            }
        }

        if (_addVia)
        {
            headers.Append(HeaderNames.Via, ViaValue);
        }

        return copied;
    }

    /// <summary>
    /// Removes a field from whichever collection holds its kind: HttpRequestHeaders.Remove throws for a content field
    /// such as Content-Length (and HttpContentHeaders for a request field), and a client may nominate either.
    /// Without Content-Length the body is still framed, chunked, by the handler.
    /// </summary>
    private static void Remove(string name, System.Net.Http.Headers.HttpHeaders headers, System.Net.Http.Headers.HttpHeaders? contentHeaders)
    {
        if (ContentFields.Contains(name))
        {
            contentHeaders?.Remove(name);
        }
        else
        {
            headers.Remove(name);
        }
    }

    private static void RemoveNominated(StringValues connection, System.Net.Http.Headers.HttpHeaders headers, System.Net.Http.Headers.HttpHeaders? contentHeaders)
    {
        foreach (var value in connection)
        {
            if (value is null)
            {
                continue;
            }

            foreach (var name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (ConnectRequestParser.IsToken(name))
                {
                    Remove(name, headers, contentHeaders);
                }
            }
        }
    }
}
