using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using EgressLab.ProxyInstance.Tests.Forwarding;
using EgressLab.ProxyInstance.Tests.Hosting;

namespace EgressLab.ProxyInstance.Tests.Deploy;

/// <summary>
/// deploy/publish.sh as a release is made with it, and the package it makes, unpacked and run the way an instance
/// runs it. The publish runs once for the class (<see cref="PublishedPackage"/>).
/// </summary>
// Linux only: bash, tar, Unix file modes and systemd are what the package is for.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PublishScriptTests(PublishedPackage package) : IClassFixture<PublishedPackage>
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The drain time of the proxy the run test starts; an idle proxy must exit well within it.</summary>
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(10);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Publish_OutAndVersion_Exits0AndWritesTarballWithMatchingChecksum()
    {
        AssertPublished();
        var checksumFile = package.Tarball + ".sha256";
        Assert.True(File.Exists(checksumFile), $"no {checksumFile}");
        string hash;
        await using (var tarball = File.OpenRead(package.Tarball))
        {
            hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(tarball, Token));
        }

        // sha256sum's format, naming the file relative to its directory, so `sha256sum -c` works there.
        Assert.Equal($"{hash}  {PublishedPackage.TarballName}\n", await File.ReadAllTextAsync(checksumFile, Token));
        var printed = package.Publish.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var tarballLine = Assert.Single(printed, l => l.StartsWith("tarball: ", StringComparison.Ordinal));
        Assert.Equal(PublishedPackage.TarballName, Path.GetFileName(tarballLine["tarball: ".Length..]));
        Assert.True(File.Exists(tarballLine["tarball: ".Length..]), $"the printed path does not exist: {tarballLine}");
        Assert.Contains($"sha256:  {hash}", printed);
        Assert.Equal(2, printed.Length);
    }

    [Fact]
    public async Task Publish_Tarball_HoldsExecutableUnitSampleAndVersionUnderEgressProxy()
    {
        AssertUnpacked();
        var listing = await ExternalCommand.RunAsync("tar", ["-tzf", package.Tarball], CommandTimeout, Token);

        Assert.Equal(0, listing.ExitCode);
        Assert.Equal(
            ["egress-proxy/", "egress-proxy/ProxyInstance", "egress-proxy/VERSION", "egress-proxy/egress-proxy.service", "egress-proxy/proxy.sample.json"],
            listing.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        Assert.Equal($"{PublishedPackage.Version}\n", await File.ReadAllTextAsync(Path.Combine(package.PackageDirectory, "VERSION"), Token));
        Assert.Equal(await File.ReadAllTextAsync(Repository.Unit, Token),
            await File.ReadAllTextAsync(Path.Combine(package.PackageDirectory, "egress-proxy.service"), Token));
        Assert.Equal(await File.ReadAllTextAsync(Repository.Config("proxy.sample.json"), Token),
            await File.ReadAllTextAsync(Path.Combine(package.PackageDirectory, "proxy.sample.json"), Token));
    }

    [Fact]
    public async Task Publish_Executable_IsOneExecutableFileWithNoAssembliesBesideIt()
    {
        AssertUnpacked();
        const UnixFileMode executableByAll = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        var mode = File.GetUnixFileMode(package.Executable);
        var head = new byte[4];
        await using (var executable = File.OpenRead(package.Executable))
        {
            await executable.ReadExactlyAsync(head, Token);
        }

        Assert.Equal(executableByAll, mode & executableByAll);
        // A native executable (the single-file host), not a script or an assembly that needs the dotnet host.
        Assert.Equal("\u007fELF"u8.ToArray(), head);
        Assert.Empty(Directory.GetDirectories(package.PackageDirectory));
        Assert.Equal(["ProxyInstance", "VERSION", "egress-proxy.service", "proxy.sample.json"],
            Directory.GetFiles(package.PackageDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Publish_SourceTree_BuildOutputUntouched()
    {
        AssertPublished();
        var before = package.BuildOutputBefore;
        var after = package.BuildOutputAfter;
        var changed = before.Keys.Union(after.Keys).Order(StringComparer.Ordinal)
            .Where(file => !before.TryGetValue(file, out var old) || !after.TryGetValue(file, out var now) || old != now)
            .Select(file => $"{file}: {before.GetValueOrDefault(file, "absent")} -> {after.GetValueOrDefault(file, "absent")}")
            .ToList();

        Assert.True(changed.Count == 0, $"publish.sh changed {changed.Count} file(s) of build output in the source tree:\n{string.Join('\n', changed.Take(20))}");
    }

    [Fact]
    public async Task PackagedExecutable_CheckConfigOnPackagedSample_Exits0()
    {
        AssertUnpacked();
        // The sample logs to /var/log/egress-proxy, which LogsDirectory= creates on an instance and which need not
        // exist here; the check requires the directory, so the log goes to this test's directory instead. Every
        // other setting is the packaged file's.
        var environment = new Dictionary<string, string> { ["Proxy__AccessLog__Path"] = Path.Combine(package.WorkDirectory, "access.log") };
        await using var process = ProxyProcess.StartExecutable(package.Executable, ["--check-config", Path.Combine(package.PackageDirectory, "proxy.sample.json")], environment);

        Assert.Equal(0, await process.WaitForExitAsync(CommandTimeout));
        Assert.Contains("is valid: 2 rule(s), listening on 0.0.0.0:3128.", process.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "Proxy": { "Listen": [ "127.0.0.1:3128" ], "Policy": { "DefaultAction": "Perhaps" } } }""", "$.Proxy.Policy.DefaultAction")]
    [InlineData("""{ "Proxy": { "Listen": [ "127.0.0.1:3128" ] """, "is not valid JSON")]
    public async Task PackagedExecutable_CheckConfigOnBrokenFile_Exits1AndSaysWhy(string json, string expected)
    {
        AssertUnpacked();
        var path = Path.Combine(package.WorkDirectory, $"broken-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, json, Token);
        await using var process = ProxyProcess.StartExecutable(package.Executable, ["--check-config", path]);

        Assert.Equal(1, await process.WaitForExitAsync(CommandTimeout));
        Assert.Contains("would refuse to start", process.Stderr, StringComparison.Ordinal);
        Assert.Contains(expected, process.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PackagedExecutable_RunThenSigterm_ServesHealthzAndExits0WithinDrain()
    {
        AssertUnpacked();
        var proxyPort = PlainHttpTests.UnusedPort();
        var adminPort = PlainHttpTests.UnusedPort();
        var path = Path.Combine(package.WorkDirectory, $"run-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, $$"""
            { "Proxy": { "Listen": [ "127.0.0.1:{{proxyPort}}" ], "AdminListen": "127.0.0.1:{{adminPort}}",
              "AccessLog": { "Path": "-" },
              "Timeouts": { "Drain": "{{Drain.ToString("c", CultureInfo.InvariantCulture)}}" },
              "Policy": { "Rules": [ { "Name": "aws", "Action": "Allow", "Domains": [ ".amazonaws.com" ] } ] } } }
            """, Token);
        await using var process = ProxyProcess.StartExecutable(package.Executable, ["--config", path]);
        await ProgramTests.WaitForPortAsync(adminPort, process);
        using var admin = new HttpClient { Timeout = CommandTimeout };

        using var health = await admin.GetAsync($"http://127.0.0.1:{adminPort}/healthz", Token);
        using var ready = await admin.GetAsync($"http://127.0.0.1:{adminPort}/readyz", Token);
        var signalled = Stopwatch.StartNew();
        process.SendSignal("TERM");
        var exitCode = await process.WaitForExitAsync(Drain + CommandTimeout);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok\n", await health.Content.ReadAsStringAsync(Token));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(0, exitCode);
        Assert.True(signalled.Elapsed < Drain, $"the proxy took {signalled.Elapsed} to exit after SIGTERM, longer than its drain time {Drain}. stderr: {process.Stderr}");
    }

    [Theory]
    [InlineData("--bogus", "unknown argument '--bogus'")]
    [InlineData("--out", "--out needs a value")]
    [InlineData("--version", "--version needs a value")]
    public async Task Publish_BadArgument_Exits2WithMessageOnStderr(string argument, string message)
    {
        var result = await ExternalCommand.RunAsync(Repository.PublishScript, [argument], CommandTimeout, Token);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--help", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task Publish_Help_PrintsUsageAndExits0()
    {
        var result = await ExternalCommand.RunAsync(Repository.PublishScript, ["--help"], CommandTimeout, Token);

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("Usage: deploy/publish.sh [--out DIR] [--version V]", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_NoDotnetOnPath_Exits1AndSaysToInstallTheSdk()
    {
        var bash = Requirements.FindOnPath("bash");
        Assert.NotNull(bash);
        var emptyPath = Directory.CreateDirectory(Path.Combine(package.WorkDirectory, $"empty-path-{Guid.NewGuid():N}")).FullName;

        var result = await ExternalCommand.RunAsync(bash, [Repository.PublishScript, "--out", Path.Combine(package.WorkDirectory, "unused")], CommandTimeout, Token,
            new Dictionary<string, string?> { ["PATH"] = emptyPath });

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Install the .NET 10 SDK", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(package.WorkDirectory, "unused")), "the script wrote output although it could not build");
    }

    private void AssertPublished() =>
        Assert.True(package.Publish.ExitCode == 0, $"deploy/publish.sh failed: {package.Publish}");

    private void AssertUnpacked()
    {
        AssertPublished();
        Assert.True(package.Unpack is { ExitCode: 0 }, $"tar could not unpack {package.Tarball}: {package.Unpack}");
    }
}
