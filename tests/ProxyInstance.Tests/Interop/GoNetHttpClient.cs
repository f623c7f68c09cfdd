namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>
/// Go's net/http, standard library only: http.Transport with Proxy set to the proxy URL (credentials in it) and
/// the test CA as its only root. The program is built once (<see cref="CreateAsync"/>) and the binary run per
/// request, since a build takes seconds and a run milliseconds. Its upload body is a file of unknown length to
/// net/http, so it goes out chunked, unlike the other clients' Content-Length uploads.
/// </summary>
internal sealed class GoNetHttpClient : IInteropClient
{
    private const string Program = """
        // The interop matrix's Go client: one request through an HTTP proxy with net/http.
        package main

        import (
        	"crypto/tls"
        	"crypto/x509"
        	"encoding/json"
        	"errors"
        	"fmt"
        	"io"
        	"net/http"
        	"net/url"
        	"os"
        	"strings"
        	"time"
        )

        func main() {
        	if len(os.Args) != 7 {
        		fmt.Fprintln(os.Stderr, "usage: client PROXY CA METHOD UPLOAD OUT URL")
        		os.Exit(64)
        	}
        	if err := run(os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6]); err != nil {
        		fmt.Fprintln(os.Stderr, err)
        		os.Exit(2)
        	}
        }

        func run(proxy, ca, method, upload, out, target string) error {
        	proxyURL, err := url.Parse(proxy)
        	if err != nil {
        		return err
        	}
        	pem, err := os.ReadFile(ca)
        	if err != nil {
        		return err
        	}
        	roots := x509.NewCertPool()
        	if !roots.AppendCertsFromPEM(pem) {
        		return errors.New("no certificate in " + ca)
        	}
        	client := &http.Client{
        		Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: roots}},
        		Timeout:   30 * time.Second,
        		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
        	}
        	var body io.Reader
        	if upload != "" {
        		file, err := os.Open(upload)
        		if err != nil {
        			return err
        		}
        		defer file.Close()
        		body = file
        	}
        	request, err := http.NewRequest(method, target, body)
        	if err != nil {
        		return err
        	}
        	if body != nil {
        		request.Header.Set("Content-Type", "application/octet-stream")
        	}
        	response, err := client.Do(request)
        	if err != nil {
        		return err
        	}
        	defer response.Body.Close()
        	sink, err := os.Create(out)
        	if err != nil {
        		return err
        	}
        	defer sink.Close()
        	if _, err := io.Copy(sink, response.Body); err != nil {
        		return err
        	}
        	headers := map[string]string{}
        	for name, values := range response.Header {
        		headers[name] = strings.Join(values, ", ")
        	}
        	return json.NewEncoder(os.Stdout).Encode(map[string]any{"status": response.StatusCode, "headers": headers})
        }
        """;

    private readonly string? _binary;
    private readonly string? _buildFailure;

    private GoNetHttpClient(string? binary, string? unavailable, string? buildFailure = null)
    {
        _binary = binary;
        Unavailable = unavailable;
        _buildFailure = buildFailure;
    }

    public string? Unavailable { get; }

    public bool SendsProxyCredentialsUpFront => true;

    /// <summary>
    /// Builds the program in <paramref name="directory"/> with the local toolchain only: no module download, no
    /// toolchain download, caches in the directory. A build that fails fails the Go rows, rather than skipping them.
    /// </summary>
    public static async Task<GoNetHttpClient> CreateAsync(string directory, CancellationToken cancellationToken)
    {
        var go = Requirements.FindOnPath("go");
        if (go is null)
        {
            return new GoNetHttpClient(null, "go is not installed (.ci/run installs golang-go)");
        }

        var source = Path.Combine(directory, "go-client");
        Directory.CreateDirectory(source);
        await File.WriteAllTextAsync(Path.Combine(source, "main.go"), Program, cancellationToken);
        var binary = Path.Combine(source, "client");
        var environment = new Dictionary<string, string>
        {
            ["GOCACHE"] = Path.Combine(directory, "go-cache"),
            ["GOPATH"] = Path.Combine(directory, "go-path"),
            ["GOPROXY"] = "off",
            ["GOTOOLCHAIN"] = "local",
            ["GOENV"] = "off",
            ["GOFLAGS"] = string.Empty,
            // A static binary needs no C compiler, which CI may not have, and does the same on every machine.
            ["CGO_ENABLED"] = "0",
        };
        var build = await ClientProcess.RunAsync(go, ["build", "-o", binary, "main.go"], source, environment, cancellationToken,
            TimeSpan.FromSeconds(180));
        return build.ExitCode == 0
            ? new GoNetHttpClient(binary, null)
            : new GoNetHttpClient(null, null, $"go build of the interop client failed: {build}");
    }

    public async Task<ClientResponse> SendAsync(ClientRequest request, CancellationToken cancellationToken)
    {
        Assert.True(_buildFailure is null, _buildFailure);
        string[] args =
        [
            request.ProxyUrlWithCredentials, request.CaPath, request.UploadPath is null ? "GET" : "POST",
            request.UploadPath ?? string.Empty, request.BodyPath, request.Url.ToString(),
        ];
        var result = await ClientProcess.RunAsync(_binary!, args, request.Home, null, cancellationToken);
        return result.ExitCode == 0 ? ClientOutput.Parse(result) : ClientResponse.Failed(result.ToString());
    }
}
