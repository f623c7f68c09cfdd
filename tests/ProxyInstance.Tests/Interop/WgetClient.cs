namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>GNU wget, with the proxy set by -e commands (as a wgetrc would), and no wgetrc or HSTS file read.</summary>
internal sealed class WgetClient : IInteropClient
{
    // wget's exit codes: 0 success, 8 the server answered with an error status. Anything else (4, a network
    // failure, covers a refused tunnel) means no response to the request itself.
    private const int ServerError = 8;

    private readonly string? _wget = Requirements.FindOnPath("wget");

    public string? Unavailable => _wget is null ? "wget is not installed (.ci/run installs it)" : null;

    public bool SendsProxyCredentialsUpFront => true;

    public async Task<ClientResponse> SendAsync(ClientRequest request, CancellationToken cancellationToken)
    {
        var proxy = request.Proxy.ToString();
        List<string> args =
        [
            "--no-config", "--no-hsts", "--tries=1", "--timeout=30", "--server-response", "--output-document=" + request.BodyPath,
            "--ca-certificate=" + request.CaPath, "-e", "use_proxy=on", "-e", "http_proxy=" + proxy, "-e", "https_proxy=" + proxy,
            "-e", "no_proxy=",
        ];
        if (request.ProxyCredentials is { } credentials)
        {
            args.AddRange(["--proxy-user=" + credentials.UserName, "--proxy-password=" + credentials.Password]);
        }

        if (request.UploadPath is not null)
        {
            args.AddRange(["--post-file=" + request.UploadPath, "--header=Content-Type: application/octet-stream"]);
        }

        args.Add(request.Url.ToString());
        var result = await ClientProcess.RunAsync(_wget!, args, request.Home, null, cancellationToken);
        if (result.ExitCode is not (0 or ServerError))
        {
            return ClientResponse.Failed(result.ToString());
        }

        // --server-response prints each head it receives to stderr, two spaces in.
        var (status, headers) = ResponseHead.ParseLast(result.Stderr, indent: "  ");
        return new ClientResponse(status, headers, result.ToString());
    }
}
