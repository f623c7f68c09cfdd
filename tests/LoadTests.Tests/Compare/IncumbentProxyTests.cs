using System.Net;
using System.Text.RegularExpressions;
using EgressLab.LoadTests.Compare;
using EgressLab.Provisioner.Lab;

namespace EgressLab.LoadTests.Tests.Compare;

public sealed class IncumbentProxyTests : IDisposable
{
    private static readonly string[] Allowlist = ["www.lab.test", ".amazonaws.com"];
    private readonly string _directory = Directory.CreateTempSubdirectory("incumbent-").FullName;

    [Fact]
    public void Squid_Configure_AllowsTheListOnTheProxyAddressAndDeniesTheRest()
    {
        var arguments = IncumbentProxy.Create("squid").Configure(_directory, IPAddress.Parse("10.10.2.200"), 3128, Allowlist);
        var config = File.ReadAllText(Path.Combine(_directory, "squid.conf"));

        Assert.Equal(["-N", "-f", Path.Combine(_directory, "squid.conf")], arguments);
        Assert.Contains("http_port 10.10.2.200:3128\n", config, StringComparison.Ordinal);
        Assert.Contains("acl allowed dstdomain www.lab.test .amazonaws.com\n", config, StringComparison.Ordinal);
        Assert.True(config.IndexOf("http_access allow allowed", StringComparison.Ordinal) < config.IndexOf("http_access deny all", StringComparison.Ordinal));
    }

    [Fact]
    public void Squid_Configure_WritesAConfigurationSquidAccepts()
    {
        var squid = LabPrerequisites.FindOnPath("squid");
        Requirements.SkipUnless(squid is not null, "squid is not installed (.ci/run installs it)");
        IncumbentProxy.Create("squid").Configure(_directory, IPAddress.Parse("10.10.2.200"), 3128, Allowlist);

        var start = new System.Diagnostics.ProcessStartInfo(squid!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-k", "parse", "-f", Path.Combine(_directory, "squid.conf")])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "squid -k parse did not finish");
        Assert.True(process.ExitCode == 0, $"squid -k parse refused the configuration:\n{errors}");
        Assert.DoesNotContain("FATAL", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("www.lab.test", true)]
    [InlineData("WWW.LAB.TEST", true)]
    [InlineData("evil-www.lab.test", false)]
    [InlineData("www.lab.test.evil.example", false)]
    [InlineData("sts.amazonaws.com", true)]
    [InlineData("amazonaws.com", true)]
    [InlineData("notamazonaws.com", false)]
    public void TinyProxy_Configure_FilterMatchesAsTheAllowlistDoes(string host, bool allowed)
    {
        IncumbentProxy.Create("tinyproxy").Configure(_directory, IPAddress.Parse("10.10.2.200"), 3128, Allowlist);
        var patterns = File.ReadAllLines(Path.Combine(_directory, "filter")).Where(l => l.Length > 0);

        // The configuration turns case sensitivity off, as names are matched in the proxy's own allowlist.
        Assert.Equal(allowed, patterns.Any(p => Regex.IsMatch(host, p, RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1))));
    }

    [Fact]
    public void TinyProxy_Configure_ListensOnTheProxyAddressDenyingByDefault()
    {
        var arguments = IncumbentProxy.Create("tinyproxy").Configure(_directory, IPAddress.Parse("10.10.2.200"), 3128, Allowlist);
        var config = File.ReadAllText(Path.Combine(_directory, "tinyproxy.conf"));

        Assert.Equal(["-d", "-c", Path.Combine(_directory, "tinyproxy.conf")], arguments);
        Assert.Contains("Listen 10.10.2.200\n", config, StringComparison.Ordinal);
        Assert.Contains("Port 3128\n", config, StringComparison.Ordinal);
        Assert.Contains("FilterDefaultDeny Yes\n", config, StringComparison.Ordinal);
        Assert.Contains("FilterCaseSensitive Off\n", config, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
