using System.Globalization;

namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>curl, with the proxy and its credentials on the command line (-x, --proxy-user), never from a config file.</summary>
internal sealed class CurlClient : IInteropClient
{
    private readonly string? _curl = Requirements.FindOnPath("curl");

    public string? Unavailable => _curl is null ? "curl is not installed (.ci/run installs it)" : null;

    public bool SendsProxyCredentialsUpFront => true;

    public async Task<ClientResponse> SendAsync(ClientRequest request, CancellationToken cancellationToken)
    {
        var heads = Path.Combine(request.Home, "curl-heads.txt");
        // -q first: no .curlrc. --noproxy "": the proxy applies to every name.
        List<string> args =
        [
            "-q", "--silent", "--show-error", "--max-time", "30", "--proxy", request.Proxy.ToString(), "--noproxy", "",
            "--cacert", request.CaPath, "--output", request.BodyPath, "--dump-header", heads, "--write-out", "%{http_code}",
        ];
        if (request.ProxyCredentials is { } credentials)
        {
            args.AddRange(["--proxy-user", $"{credentials.UserName}:{credentials.Password}"]);
        }

        if (request.UploadPath is not null)
        {
            args.AddRange(["--data-binary", "@" + request.UploadPath, "--header", "Content-Type: application/octet-stream"]);
        }

        args.Add(request.Url.ToString());
        var result = await ClientProcess.RunAsync(_curl!, args, request.Home, null, cancellationToken);
        // curl exits 0 on any HTTP response (no --fail); a refused tunnel is exit 56, with http_code 000.
        if (result.ExitCode != 0)
        {
            return ClientResponse.Failed(result.ToString());
        }

        var (_, headers) = ResponseHead.ParseLast(File.Exists(heads) ? await File.ReadAllTextAsync(heads, cancellationToken) : string.Empty);
        return new ClientResponse(int.Parse(result.Stdout, CultureInfo.InvariantCulture), headers, result.ToString());
    }
}
