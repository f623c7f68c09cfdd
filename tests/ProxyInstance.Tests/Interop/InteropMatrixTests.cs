using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>The clients of the matrix. Public because they are theory arguments.</summary>
public enum InteropClientKind
{
    Curl,
    Wget,
    PythonRequests,
    GoNetHttp,
    DotNetHttpClient,
}

/// <summary>
/// The cases every client runs. Http* go to the proxy in absolute form, Https* through a CONNECT tunnel carrying TLS
/// with the CONNECT name as SNI. Plain HTTP inside a tunnel is left out: it is covered (and fixed) elsewhere.
/// </summary>
public enum InteropCase
{
    HttpGet,
    HttpsGet,
    HttpDownload10MiB,
    HttpsDownload10MiB,
    HttpUpload4MiB,
    HttpsUpload4MiB,
    HttpAuthNoCredentialsGets407,
    HttpAuthWrongPasswordGets407,
    HttpAuthRightPasswordPasses,
    HttpsAuthWrongPasswordFails,
    HttpsAuthRightPasswordPasses,
    HttpDeniedGets403,
    HttpsDeniedFails,
}

/// <summary>
/// Real, unmodified clients (curl, wget, Python requests, Go net/http, .NET HttpClient) through the proxy to a
/// loopback origin, one fresh proxy per row: what each client reports, what the origin received and the proxy's
/// access log must agree. This folder has no counterpart in src: the matrix crosses every feature folder.
/// </summary>
public sealed class InteropMatrixTests(InteropMatrixFixture fixture) : IClassFixture<InteropMatrixFixture>
{
    /// <summary>A bound on one request, above the clients' own 30-second timeouts and the process bound, so those report first.</summary>
    private static readonly TimeSpan RequestBound = TimeSpan.FromSeconds(90);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static IEnumerable<TheoryDataRow<InteropClientKind, InteropCase>> Rows() =>
        from client in Enum.GetValues<InteropClientKind>()
        from @case in Enum.GetValues<InteropCase>()
        select new TheoryDataRow<InteropClientKind, InteropCase>(client, @case);

    /// <param name="Tls">Through a CONNECT tunnel (https://) rather than in absolute form (http://).</param>
    /// <param name="Path">The origin's route: /hello (text), /bytes/N (a known pattern), /sha256 (hashes the upload).</param>
    /// <param name="Refusal">The proxy's status when it must refuse (407, 403), or null when the request must pass.</param>
    private sealed record CaseSpec(bool Tls, string Path, bool Upload = false, bool Authentication = false,
        NetworkCredential? Credentials = null, bool Denied = false, int? Refusal = null);

    private static CaseSpec Spec(InteropCase @case)
    {
        var download = $"/bytes/{InteropMatrixFixture.DownloadSize}";
        var alice = InteropEnvironment.Alice;
        var wrong = InteropEnvironment.AliceWithWrongPassword;
        return @case switch
        {
            InteropCase.HttpGet => new(false, "/hello"),
            InteropCase.HttpsGet => new(true, "/hello"),
            InteropCase.HttpDownload10MiB => new(false, download),
            InteropCase.HttpsDownload10MiB => new(true, download),
            InteropCase.HttpUpload4MiB => new(false, "/sha256", Upload: true),
            InteropCase.HttpsUpload4MiB => new(true, "/sha256", Upload: true),
            InteropCase.HttpAuthNoCredentialsGets407 => new(false, "/hello", Authentication: true, Refusal: 407),
            InteropCase.HttpAuthWrongPasswordGets407 => new(false, "/hello", Authentication: true, Credentials: wrong, Refusal: 407),
            InteropCase.HttpAuthRightPasswordPasses => new(false, "/hello", Authentication: true, Credentials: alice),
            InteropCase.HttpsAuthWrongPasswordFails => new(true, "/hello", Authentication: true, Credentials: wrong, Refusal: 407),
            InteropCase.HttpsAuthRightPasswordPasses => new(true, "/hello", Authentication: true, Credentials: alice),
            InteropCase.HttpDeniedGets403 => new(false, "/hello", Denied: true, Refusal: 403),
            InteropCase.HttpsDeniedFails => new(true, "/hello", Denied: true, Refusal: 403),
            _ => throw new ArgumentOutOfRangeException(nameof(@case), @case, null),
        };
    }

    [Theory(Timeout = 180_000)]
    [MemberData(nameof(Rows))]
    public async Task Client_ThroughProxy_GetsWhatTheCaseExpects(InteropClientKind client, InteropCase @case)
    {
        var implementation = fixture.Clients[client];
        Requirements.SkipUnless(implementation.Unavailable is null, implementation.Unavailable ?? string.Empty);
        var shared = fixture.Shared;
        var origin = shared.Origin;
        var spec = Spec(@case);
        var scratch = shared.NewScratchDirectory($"{client}-{@case}");
        var home = Directory.CreateDirectory(Path.Combine(scratch, "home")).FullName;
        var accessLog = Path.Combine(scratch, "access.log");
        var bodyPath = Path.Combine(scratch, "body");
        var url = shared.Url(spec.Tls, spec.Path, spec.Denied);
        var requestsBefore = origin.RequestTargets.Count;
        var connectionsBefore = origin.Connections;

        ClientResponse response;
        await using (var proxy = await shared.StartProxyAsync(spec.Authentication, accessLog))
        {
            var request = new ClientRequest(url, proxy.ProxyUri, spec.Credentials, shared.CaPath, spec.Upload ? fixture.UploadPath : null, bodyPath, home);
            response = await implementation.SendAsync(request, Token).WaitAsync(RequestBound, Token);
        }

        // Disposing the proxy drained its access log and ended every tunnel, so every line is on disk.
        var log = await InteropEnvironment.ReadAccessLogAsync(accessLog, Token);
        var requestsServed = origin.RequestTargets.Count - requestsBefore;
        var connectionsMade = origin.Connections - connectionsBefore;
        var context = $"{client} {@case}: {response}\naccess log:\n{string.Join('\n', log.Select(l => l.Json))}";
        TestContext.Current.TestOutputHelper?.WriteLine(context);
        // Clients that wait for the 407 challenge before sending credentials cost one refused line first.
        var challengeLines = spec.Credentials is not null && !implementation.SendsProxyCredentialsUpFront ? 1 : 0;

        if (spec.Refusal is { } refusal)
        {
            var error = refusal == 407 ? "ERR_AUTH_REQUIRED" : "ERR_ACCESS_DENIED";
            if (spec.Tls)
            {
                // The proxy's answer to CONNECT is not the response to the request: the client must fail, and say why.
                Assert.True(response.Status is null, context);
                Assert.True(response.Diagnostics.Contains(refusal.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                    || response.Diagnostics.Contains(refusal == 407 ? "Proxy Authentication Required" : "Forbidden", StringComparison.Ordinal), context);
            }
            else
            {
                Assert.True(response.Status == refusal, context);
                Assert.True(response.Header("X-Proxy-Error") == error, context);
            }

            Assert.True(log.Length == 1 + challengeLines, context);
            Assert.All(log, line =>
            {
                Assert.True(line.Result == $"TCP_DENIED/{refusal}" && line.Error == error, context);
                Assert.True(line.Method == (spec.Tls ? "CONNECT" : "GET"), context);
            });
            Assert.True(connectionsMade == 0, $"the origin was reached {connectionsMade} time(s); {context}");
            return;
        }

        Assert.True(response.Status == 200, context);
        await AssertBodyAsync(spec, bodyPath, context);

        // One line per request: the request that passed, after any challenge the client needed.
        var served = log.Where(l => !l.Denied).ToArray();
        Assert.True(served.Length == 1, context);
        Assert.True(log.Length == 1 + (spec.Authentication ? challengeLines : 0), context);
        Assert.All(log.Where(l => l.Denied), line => Assert.True(line.Result == "TCP_DENIED/407", context));
        var entry = served[0];
        if (spec.Tls)
        {
            Assert.True(entry.Method == "CONNECT" && entry.Target == $"{url.Host}:{url.Port}" && entry.Result == "TCP_TUNNEL/200", context);
            Assert.True(entry.Sni == InteropEnvironment.AllowedName, context);
            Assert.True(connectionsMade == 1, $"{connectionsMade} connection(s) reached the origin; {context}");
        }
        else
        {
            Assert.True(entry.Method == (spec.Upload ? "POST" : "GET") && entry.Target == url.ToString() && entry.Result == "TCP_MISS/200", context);
            Assert.True(requestsServed == 1, $"{requestsServed} request(s) reached the origin; {context}");
        }

        Assert.True(entry.User == (spec.Authentication ? InteropEnvironment.Alice.UserName : null), context);
        if (spec.Upload)
        {
            Assert.True(entry.BytesUp >= InteropMatrixFixture.UploadSize, context);
        }

        if (spec.Path.StartsWith("/bytes/", StringComparison.Ordinal))
        {
            Assert.True(entry.BytesDown >= InteropMatrixFixture.DownloadSize, context);
        }
    }

    private async Task AssertBodyAsync(CaseSpec spec, string bodyPath, string context)
    {
        if (spec.Upload)
        {
            Assert.True(await File.ReadAllTextAsync(bodyPath, Token) == fixture.ExpectedUploadAnswer, context);
        }
        else if (spec.Path.StartsWith("/bytes/", StringComparison.Ordinal))
        {
            await using var body = File.OpenRead(bodyPath);
            Assert.True(body.Length == InteropMatrixFixture.DownloadSize, $"{body.Length} bytes; {context}");
            var sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(body, Token));
            Assert.True(sha256 == fixture.ExpectedDownloadSha256, context);
        }
        else
        {
            Assert.True(await File.ReadAllTextAsync(bodyPath, Token) == $"GET {spec.Path} from origin", context);
        }
    }
}
