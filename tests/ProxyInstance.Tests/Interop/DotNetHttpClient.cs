using System.Net;
using System.Net.Http.Headers;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>
/// .NET's HttpClient (SocketsHttpHandler) with a WebProxy, in-process. It sends proxy credentials only after a 407
/// challenge, where the other clients send Basic up front, so an authenticated request costs it two log lines.
/// </summary>
internal sealed class DotNetHttpClient : IInteropClient
{
    public string? Unavailable => null;

    public bool SendsProxyCredentialsUpFront => false;

    public async Task<ClientResponse> SendAsync(ClientRequest request, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            Proxy = new WebProxy(request.Proxy) { Credentials = request.ProxyCredentials },
            UseProxy = true,
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        // The test CA only, as the other clients get it from CaPath.
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            TestCertificates.Validate(certificate as System.Security.Cryptography.X509Certificates.X509Certificate2);
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        using var message = new HttpRequestMessage(request.UploadPath is null ? HttpMethod.Get : HttpMethod.Post, request.Url);
        await using var upload = request.UploadPath is null ? null : File.OpenRead(request.UploadPath);
        if (upload is not null)
        {
            message.Content = new StreamContent(upload);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }

        try
        {
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            await using (var sink = File.Create(request.BodyPath))
            {
                await response.Content.CopyToAsync(sink, cancellationToken);
            }

            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                headers[name] = string.Join(", ", values);
            }

            return new ClientResponse((int)response.StatusCode, headers, $"HttpClient: {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        catch (HttpRequestException ex)
        {
            return ClientResponse.Failed($"{ex.GetType().Name}: {ex.Message}");
        }
    }
}
