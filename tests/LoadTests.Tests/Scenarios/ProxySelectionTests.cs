using EgressLab.LoadTests.Scenarios;

namespace EgressLab.LoadTests.Tests.Scenarios;

public class ProxySelectionTests
{
    [Theory]
    // --proxy wins over the environment, and 'direct' ignores it.
    [InlineData("http://www.lab.test/1k", "http://10.10.2.200:3128", "http_proxy=http://other:1", "http://10.10.2.200:3128/")]
    [InlineData("http://www.lab.test/1k", "10.10.2.200:3128", "", "http://10.10.2.200:3128/")]
    [InlineData("http://www.lab.test/1k", "direct", "http_proxy=http://other:1", null)]
    // curl's variables: lowercase http_proxy only; https_proxy or HTTPS_PROXY; then all_proxy.
    [InlineData("http://www.lab.test/1k", null, "http_proxy=http://p:3128", "http://p:3128/")]
    [InlineData("http://www.lab.test/1k", null, "HTTP_PROXY=http://p:3128", null)]
    [InlineData("http://www.lab.test/1k", null, "https_proxy=http://p:3128", null)]
    [InlineData("https://www.lab.test/1k", null, "https_proxy=http://p:3128", "http://p:3128/")]
    [InlineData("https://www.lab.test/1k", null, "HTTPS_PROXY=http://p:3128", "http://p:3128/")]
    [InlineData("https://www.lab.test/1k", null, "http_proxy=http://p:3128", null)]
    [InlineData("https://www.lab.test/1k", null, "all_proxy=http://p:3128", "http://p:3128/")]
    [InlineData("http://www.lab.test/1k", null, "ALL_PROXY=http://p:3128", "http://p:3128/")]
    [InlineData("http://www.lab.test/1k", null, "http_proxy=p", "http://p:1080/")]
    [InlineData("http://www.lab.test/1k", null, "", null)]
    // no_proxy: names with their subdomains, a leading dot, '*', addresses and CIDR ranges.
    [InlineData("http://www.lab.test/1k", null, "http_proxy=http://p:3128;no_proxy=lab.test", null)]
    [InlineData("http://www.lab.test/1k", null, "http_proxy=http://p:3128;no_proxy=.lab.test", null)]
    [InlineData("http://www.lab.test/1k", null, "http_proxy=http://p:3128;NO_PROXY=localhost,www.lab.test", null)]
    [InlineData("http://www.lab.test/1k", null, "http_proxy=http://p:3128;no_proxy=*", null)]
    [InlineData("http://www.lab.test/1k", null, "http_proxy=http://p:3128;no_proxy=ab.test,example.com", "http://p:3128/")]
    [InlineData("http://10.1.2.3/1k", null, "http_proxy=http://p:3128;no_proxy=10.0.0.0/8", null)]
    [InlineData("http://10.1.2.3/1k", null, "http_proxy=http://p:3128;no_proxy=10.1.2.3", null)]
    [InlineData("http://11.1.2.3/1k", null, "http_proxy=http://p:3128;no_proxy=10.0.0.0/8", "http://p:3128/")]
    // no_proxy does not stop an explicit --proxy.
    [InlineData("http://www.lab.test/1k", "http://p:3128", "no_proxy=*", "http://p:3128/")]
    public void TryChoose_ProxyAndEnvironment_PicksAsCurlDoes(string target, string? option, string environment, string? expected)
    {
        var variables = environment.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);

        Assert.True(ProxySelection.TryChoose(new Uri(target), option, name => variables.GetValueOrDefault(name), out var choice, out var error), error);

        Assert.Equal(expected, choice!.Proxy?.AbsoluteUri);
    }

    [Theory]
    [InlineData("https://p:3128", null, "only plain HTTP proxies")]
    [InlineData("socks5://p:1080", null, "only plain HTTP proxies")]
    [InlineData("http://user:secret@p:3128", null, "credentials in the proxy URL are not supported")]
    [InlineData(null, "http_proxy=http://", "the environment variable http_proxy")]
    public void TryChoose_BadProxy_SaysWhy(string? option, string? environment, string expected)
    {
        var variables = (environment ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);

        Assert.False(ProxySelection.TryChoose(new Uri("http://www.lab.test/1k"), option, name => variables.GetValueOrDefault(name), out _, out var error));

        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
