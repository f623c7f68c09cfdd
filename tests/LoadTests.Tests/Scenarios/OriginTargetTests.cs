using EgressLab.LoadTests.Scenarios;

namespace EgressLab.LoadTests.Tests.Scenarios;

public class OriginTargetTests
{
    [Theory]
    [InlineData("www.lab.test", "http-small", "http://www.lab.test/1k")]
    [InlineData("www.lab.test", "https-small", "https://www.lab.test/1k")]
    [InlineData("www.lab.test", "new-connection", "https://www.lab.test/1k")]
    [InlineData("www.lab.test", "bulk", "http://www.lab.test/10m")]
    [InlineData("www.lab.test", "upload", "http://www.lab.test/upload")]
    [InlineData("http://www.lab.test", "https-small", "https://www.lab.test/1k")]
    [InlineData("https://www.lab.test", "http-small", "http://www.lab.test/1k")]
    [InlineData("https://www.lab.test", "bulk", "https://www.lab.test/10m")]
    [InlineData("HTTPS://www.lab.test/", "upload", "https://www.lab.test/upload")]
    [InlineData("127.0.0.1:8080", "bulk", "http://127.0.0.1:8080/10m")]
    [InlineData("127.0.0.1:8443", "https-small", "https://127.0.0.1:8443/1k")]
    [InlineData("https://127.0.0.1:8443", "new-connection", "https://127.0.0.1:8443/1k")]
    [InlineData("http://127.0.0.1:80", "http-small", "http://127.0.0.1/1k")]
    [InlineData("http://www.lab.test/base/", "http-small", "http://www.lab.test/base/1k")]
    [InlineData("[::1]:8080", "http-small", "http://[::1]:8080/1k")]
    public void TryResolve_Origin_ScenarioUrl(string url, string scenario, string expected)
    {
        Assert.True(ScenarioCatalog.TryParse(scenario, out var kind));

        Assert.True(OriginTarget.TryResolve(url, kind, out var target, out var error), error);

        Assert.Equal(expected, target!.AbsoluteUri);
    }

    [Theory]
    [InlineData("", "http-small", "--url is empty")]
    [InlineData("ftp://www.lab.test", "bulk", "the scheme 'ftp' is not supported")]
    [InlineData("https://127.0.0.1:8443", "http-small", "port 8443 is given for https, but http-small speaks http")]
    [InlineData("http://127.0.0.1:8080", "new-connection", "port 8080 is given for http, but new-connection speaks https")]
    [InlineData("http://www.lab.test/?q=1", "http-small", "a query or a fragment is not allowed")]
    [InlineData("http://user:pass@www.lab.test", "http-small", "user info")]
    [InlineData("http://", "http-small", "is not a valid origin")]
    public void TryResolve_BadOrigin_SaysWhy(string url, string scenario, string expected)
    {
        Assert.True(ScenarioCatalog.TryParse(scenario, out var kind));

        Assert.False(OriginTarget.TryResolve(url, kind, out _, out var error));

        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
