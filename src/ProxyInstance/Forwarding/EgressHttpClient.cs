using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using EgressLab.ProxyInstance.Egress;
using EgressLab.ProxyInstance.Errors;

namespace EgressLab.ProxyInstance.Forwarding;

/// <summary>Carries what the dialer did for a request to the access log.</summary>
internal sealed class EgressTrace
{
    public static readonly HttpRequestOptionsKey<EgressTrace> Key = new("EgressLab.EgressTrace");

    public EgressResult Result { get; set; }
}

/// <summary>The dialer's refusal or failure, carried through HttpClient to the forwarding middleware.</summary>
internal sealed class EgressException(EgressResult result)
    : IOException($"{ProxyErrorResponses.Code(result.Error)}: {result.Detail}")
{
    public EgressResult Result { get; } = result;
}

/// <summary>
/// The HTTP client for plain-HTTP forwarding. Every connection it opens goes through the
/// <see cref="EgressDialer"/>, so the SSRF guard sees the address that is then used, and the handler is set
/// up as a forward proxy needs: no proxy of its own, no redirects, no decompression, no cookies, no tracing
/// headers added.
/// </summary>
internal sealed class EgressHttpClient : IDisposable
{
    public EgressHttpClient(EgressDialer dialer)
    {
        ArgumentNullException.ThrowIfNull(dialer);
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = null,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var result = await dialer.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
                if (context.InitialRequestMessage.Options.TryGetValue(EgressTrace.Key, out var trace))
                {
                    trace.Result = result;
                }

                if (!result.Succeeded)
                {
                    throw new EgressException(result);
                }

                return new NetworkStream(result.Socket!, ownsSocket: true);
            },
        };
        Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();

    /// <summary>Finds the dialer's outcome in an exception chain from HttpClient.</summary>
    public static EgressException? FindEgressException(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is EgressException egress)
            {
                return egress;
            }
        }

        return null;
    }
}
