using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>
/// The git rows of the matrix. Git over dumb HTTP only reads, so there is no upload row; every clone fetches the
/// 10 MiB file, so the download row is every clone.
/// </summary>
public enum GitCase
{
    HttpClone,
    HttpsClone,
    HttpAuthNoCredentialsFails,
    HttpAuthRightPasswordClones,
    HttpsAuthWrongPasswordFails,
    HttpsAuthRightPasswordClones,
    HttpDeniedFails,
    HttpsDeniedFails,
}

/// <summary>
/// <c>git clone</c> through the proxy (http.proxy, credentials in its URL; GIT_SSL_CAINFO the test CA), one fresh
/// proxy per row. Git's libcurl waits for the 407 challenge before it sends credentials, and a dumb-HTTP clone is
/// several requests, so the checks are per request: every request the origin served has its line, and so does every
/// refusal.
/// </summary>
public sealed class GitInteropTests(GitInteropFixture fixture) : IClassFixture<GitInteropFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <param name="Refusal">The proxy's status when it must refuse (407, 403), or null when the clone must work.</param>
    private sealed record CaseSpec(bool Tls, bool Authentication = false, NetworkCredential? Credentials = null, bool Denied = false, int? Refusal = null);

    private static CaseSpec Spec(GitCase @case) => @case switch
    {
        GitCase.HttpClone => new(false),
        GitCase.HttpsClone => new(true),
        GitCase.HttpAuthNoCredentialsFails => new(false, Authentication: true, Refusal: 407),
        GitCase.HttpAuthRightPasswordClones => new(false, Authentication: true, Credentials: InteropEnvironment.Alice),
        GitCase.HttpsAuthWrongPasswordFails => new(true, Authentication: true, Credentials: InteropEnvironment.AliceWithWrongPassword, Refusal: 407),
        GitCase.HttpsAuthRightPasswordClones => new(true, Authentication: true, Credentials: InteropEnvironment.Alice),
        GitCase.HttpDeniedFails => new(false, Denied: true, Refusal: 403),
        GitCase.HttpsDeniedFails => new(true, Denied: true, Refusal: 403),
        _ => throw new ArgumentOutOfRangeException(nameof(@case), @case, null),
    };

    [Theory(Timeout = 180_000)]
    [InlineData(GitCase.HttpClone)]
    [InlineData(GitCase.HttpsClone)]
    [InlineData(GitCase.HttpAuthNoCredentialsFails)]
    [InlineData(GitCase.HttpAuthRightPasswordClones)]
    [InlineData(GitCase.HttpsAuthWrongPasswordFails)]
    [InlineData(GitCase.HttpsAuthRightPasswordClones)]
    [InlineData(GitCase.HttpDeniedFails)]
    [InlineData(GitCase.HttpsDeniedFails)]
    public async Task GitClone_ThroughProxy_GetsWhatTheCaseExpects(GitCase @case)
    {
        Requirements.SkipUnless(fixture.Git is not null, "git is not installed (.ci/run installs it)");
        var shared = fixture.Shared;
        var origin = shared.Origin;
        var spec = Spec(@case);
        var scratch = shared.NewScratchDirectory($"git-{@case}");
        var home = Directory.CreateDirectory(Path.Combine(scratch, "home")).FullName;
        var accessLog = Path.Combine(scratch, "access.log");
        var clone = Path.Combine(scratch, "clone");
        var url = shared.Url(spec.Tls, fixture.RepositoryPath, spec.Denied);
        var requestsBefore = origin.RequestTargets.Count;
        var connectionsBefore = origin.Connections;

        ClientProcessResult result;
        await using (var proxy = await shared.StartProxyAsync(spec.Authentication, accessLog))
        {
            var request = new ClientRequest(url, proxy.ProxyUri, spec.Credentials, shared.CaPath, null, clone, home);
            var environment = GitInteropFixture.IsolatedGit();
            environment["GIT_SSL_CAINFO"] = shared.CaPath;
            string[] args = ["-c", "http.proxy=" + request.ProxyUrlWithCredentials, "-c", "credential.helper=", "clone", "--quiet", url.ToString(), clone];
            result = await ClientProcess.RunAsync(fixture.Git!, args, home, environment, Token);
        }

        var log = await InteropEnvironment.ReadAccessLogAsync(accessLog, Token);
        var requestsServed = origin.RequestTargets.Count - requestsBefore;
        var connectionsMade = origin.Connections - connectionsBefore;
        var context = $"git {@case}: {result}\naccess log:\n{string.Join('\n', log.Select(l => l.Json))}";
        TestContext.Current.TestOutputHelper?.WriteLine(context);

        if (spec.Refusal is { } refusal)
        {
            var error = refusal == 407 ? "ERR_AUTH_REQUIRED" : "ERR_ACCESS_DENIED";
            Assert.True(result.ExitCode != 0, context);
            // "The requested URL returned error: 403" in absolute form, "CONNECT tunnel failed, response 403" through CONNECT.
            Assert.True(result.Stderr.Contains(refusal.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), context);
            Assert.True(log.Length >= 1, context);
            Assert.All(log, line => Assert.True(
                line.Result == $"TCP_DENIED/{refusal}" && line.Error == error && line.Method == (spec.Tls ? "CONNECT" : "GET"), context));
            Assert.True(connectionsMade == 0, $"the origin was reached {connectionsMade} time(s); {context}");
            return;
        }

        Assert.True(result.ExitCode == 0, context);
        Assert.Equal(GitInteropFixture.Readme, await File.ReadAllTextAsync(Path.Combine(clone, "README"), Token));
        await using (var big = File.OpenRead(Path.Combine(clone, "big.bin")))
        {
            Assert.Equal(fixture.BigFileSha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(big, Token)));
        }

        // Without credentials git gets no 407; with them, libcurl's first try on each connection is anonymous.
        Assert.All(log.Where(l => l.Denied), line => Assert.True(spec.Authentication && line.Result == "TCP_DENIED/407", context));
        var served = log.Where(l => !l.Denied).ToArray();
        Assert.All(served, line => Assert.True(line.User == (spec.Authentication ? InteropEnvironment.Alice.UserName : null), context));
        if (spec.Tls)
        {
            // One line per tunnel, and one tunnel per connection the origin accepted.
            Assert.True(served.Length >= 1 && served.Length == connectionsMade, $"{connectionsMade} origin connection(s); {context}");
            Assert.All(served, line => Assert.True(
                line.Method == "CONNECT" && line.Result == "TCP_TUNNEL/200" && line.Sni == InteropEnvironment.AllowedName, context));
            Assert.True(served.Sum(l => l.BytesDown) >= GitInteropFixture.BigFileSize, context);
        }
        else
        {
            // One line per request: the dumb protocol's 404s for optional files (alternates) are requests too.
            Assert.True(served.Length >= 1 && served.Length == requestsServed, $"{requestsServed} origin request(s); {context}");
            Assert.All(served, line => Assert.True(
                line.Method == "GET" && line.Target.StartsWith(url.ToString(), StringComparison.Ordinal)
                && line.Result is "TCP_MISS/200" or "TCP_MISS/404", context));
            Assert.True(served.Sum(l => l.BytesDown) >= GitInteropFixture.BigFileSize, context);
        }
    }
}
