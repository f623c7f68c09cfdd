namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>
/// Python's requests library, as a script would use it: proxies by URL (credentials in it), verify= the test CA.
/// The interpreter is Debian's /usr/bin/python3 (python3-requests) when it has requests; another python3 on PATH
/// (such as a pyenv shim, which comes first on some machines) only when that one lacks it.
/// </summary>
internal sealed class PythonRequestsClient : IInteropClient
{
    private const string Script = """
        # The interop matrix's Python client: one request through an HTTP proxy with requests.
        import json
        import sys

        import requests

        proxy, ca, method, upload, out, url = sys.argv[1:7]
        session = requests.Session()
        # Nothing from the environment: no *_proxy, no REQUESTS_CA_BUNDLE, no .netrc.
        session.trust_env = False
        try:
            body = open(upload, "rb") if upload else None
            try:
                response = session.request(method, url, data=body, proxies={"http": proxy, "https": proxy}, verify=ca,
                                           timeout=30, stream=True, allow_redirects=False)
                with open(out, "wb") as sink:
                    for chunk in response.iter_content(64 * 1024):
                        sink.write(chunk)
            finally:
                if body:
                    body.close()
        except requests.RequestException as error:
            print(f"{type(error).__name__}: {error}", file=sys.stderr)
            sys.exit(2)
        print(json.dumps({"status": response.status_code, "headers": dict(response.headers)}))
        """;

    private readonly string? _python;
    private readonly string _script;

    private PythonRequestsClient(string? python, string script, string? unavailable)
    {
        _python = python;
        _script = script;
        Unavailable = unavailable;
    }

    public string? Unavailable { get; }

    public bool SendsProxyCredentialsUpFront => true;

    public static async Task<PythonRequestsClient> CreateAsync(string directory, CancellationToken cancellationToken)
    {
        var script = Path.Combine(directory, "requests_client.py");
        await File.WriteAllTextAsync(script, Script, cancellationToken);
        foreach (var candidate in new[] { "/usr/bin/python3", Requirements.FindOnPath("python3") }.Distinct())
        {
            if (candidate is null || !File.Exists(candidate))
            {
                continue;
            }

            // -I: isolated, so PYTHONPATH and the user's site-packages cannot supply or shadow requests.
            var probe = await ClientProcess.RunAsync(candidate, ["-I", "-c", "import requests"], directory, null, cancellationToken);
            if (probe.ExitCode == 0)
            {
                return new PythonRequestsClient(candidate, script, null);
            }
        }

        return new PythonRequestsClient(null, script,
            "no python3 with the requests module (.ci/run installs python3-requests for /usr/bin/python3)");
    }

    public async Task<ClientResponse> SendAsync(ClientRequest request, CancellationToken cancellationToken)
    {
        string[] args =
        [
            "-I", _script, request.ProxyUrlWithCredentials, request.CaPath, request.UploadPath is null ? "GET" : "POST",
            request.UploadPath ?? string.Empty, request.BodyPath, request.Url.ToString(),
        ];
        var result = await ClientProcess.RunAsync(_python!, args, request.Home, null, cancellationToken);
        return result.ExitCode == 0 ? ClientOutput.Parse(result) : ClientResponse.Failed(result.ToString());
    }
}
