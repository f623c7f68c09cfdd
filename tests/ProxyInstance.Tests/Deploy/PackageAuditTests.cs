using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EgressLab.ProxyInstance.Tests.Deploy;

/// <summary>
/// The build's NuGet audit (Directory.Build.props). The package source the repository builds from here serves no
/// vulnerability data, so a clean restore alone proves nothing: these tests restore a small project under the
/// repository's build settings against advisories served on loopback, through NuGet's own VulnerabilityInfo resource,
/// and check that a vulnerable package fails the restore.
/// </summary>
public sealed class PackageAuditTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(3);

    /// <summary>A known vulnerability of low, moderate, high and critical severity.</summary>
    private static readonly string[] AuditWarnings = ["NU1901", "NU1902", "NU1903", "NU1904"];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("src/ProxyInstance/ProxyInstance.csproj")]
    [InlineData("src/Provisioner/Provisioner.csproj")]
    [InlineData("load-tests/LoadTests.csproj")]
    public async Task EvaluatedProject_AuditSettings_EveryPackageAnySeverityFailsTheBuild(string project)
    {
        var result = await ExternalCommand.RunAsync("dotnet",
            ["msbuild", Path.Combine(Repository.Root, project), "-getProperty:NuGetAudit", "-getProperty:NuGetAuditMode",
             "-getProperty:NuGetAuditLevel", "-getProperty:WarningsAsErrors", "-getProperty:TreatWarningsAsErrors"],
            CommandTimeout, Token);

        Assert.True(result.ExitCode == 0, result.ToString());
        var properties = JsonNode.Parse(result.Stdout)!["Properties"]!;
        Assert.Equal("true", (string?)properties["NuGetAudit"]);
        Assert.Equal("all", (string?)properties["NuGetAuditMode"]);
        Assert.Equal("low", (string?)properties["NuGetAuditLevel"]);
        var asErrors = ((string?)properties["WarningsAsErrors"] ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(AuditWarnings, code => Assert.Contains(code, asErrors));
    }

    [Theory]
    // A direct reference with a low-severity advisory: NuGetAuditLevel "low" reports it, and as an error.
    [InlineData("Serilog", "Serilog", 0, "NU1901")]
    // Yarp.ReverseProxy brings System.IO.Hashing; only NuGetAuditMode "all" looks past the direct references.
    [InlineData("Yarp.ReverseProxy", "System.IO.Hashing", 2, "NU1903")]
    public async Task Restore_PackageInTheGraphWithAdvisory_FailsWithTheSeverityError(string reference, string advised, int severity, string code)
    {
        await using var advisories = await AdvisoryServer.StartAsync(new JsonObject
        {
            [advised.ToLowerInvariant()] = Advisory(severity),
        });

        var result = await RestoreAsync(reference, advisories);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"error {code}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"'{advised}'", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_AdvisoryForAnotherPackage_Succeeds()
    {
        await using var advisories = await AdvisoryServer.StartAsync(new JsonObject
        {
            ["example.not-referenced"] = Advisory(severity: 3),
        });

        var result = await RestoreAsync("Serilog", advisories);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("NU190", result.Stdout, StringComparison.Ordinal);
        Assert.True(advisories.Served >= 1, $"the audit never read the advisories; {result}");
    }

    /// <summary>One advisory in NuGet's vulnerability format, covering every version.</summary>
    private static JsonArray Advisory(int severity) =>
        [new JsonObject { ["url"] = "https://example.com/advisories/1", ["severity"] = severity, ["versions"] = "[0.0.0, )" }];

    /// <summary>
    /// Restores a project that references <paramref name="package"/> at the repository's central version, under the
    /// repository's Directory.Build.props, with packages taken from the global packages folder (the repository's own
    /// restore put them there) and <paramref name="advisories"/> as the only audit source.
    /// </summary>
    private static async Task<CommandResult> RestoreAsync(string package, AdvisoryServer advisories)
    {
        var directory = Directory.CreateTempSubdirectory("egress-audit-");
        try
        {
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
                ? configured
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "NuGet.Config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources><clear /><add key="global-packages" value="{packages}" /></packageSources>
                  <auditSources><clear /><add key="loopback" value="{advisories.Index}" allowInsecureConnections="true" /></auditSources>
                </configuration>
                """, Token);
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "Directory.Build.props"),
                $"""<Project><Import Project="{Path.Combine(Repository.Root, "Directory.Build.props")}" /></Project>""", Token);
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "Directory.Packages.props"),
                $"""<Project><Import Project="{Path.Combine(Repository.Root, "Directory.Packages.props")}" /></Project>""", Token);
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "Audited.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <ItemGroup><PackageReference Include="{package}" /></ItemGroup>
                </Project>
                """, Token);

            return await ExternalCommand.RunAsync("dotnet", ["restore", "--no-http-cache", Path.Combine(directory.FullName, "Audited.csproj")],
                CommandTimeout, Token, new Dictionary<string, string?> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" });
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A NuGet V3 service index on loopback whose only resource is VulnerabilityInfo/6.7.0: an index of one page, and
    /// that page, mapping lower-case package ids to advisories.
    /// </summary>
    private sealed class AdvisoryServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _served;

        private AdvisoryServer(WebApplication app) => _app = app;

        public Uri Index => new(new Uri(_app.Urls.First()), "/index.json");

        /// <summary>How many times the page of advisories was read.</summary>
        public int Served => Volatile.Read(ref _served);

        public static async Task<AdvisoryServer> StartAsync(JsonObject page)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var server = new AdvisoryServer(app);
            var pageText = page.ToJsonString();
            app.Run(context =>
            {
                var root = new Uri(app.Urls.First());
                string body;
                switch (context.Request.Path.Value)
                {
                    case "/index.json":
                        body = new JsonObject
                        {
                            ["version"] = "3.0.0",
                            ["resources"] = new JsonArray(new JsonObject { ["@id"] = new Uri(root, "/vulnerabilities/index.json").ToString(), ["@type"] = "VulnerabilityInfo/6.7.0" }),
                        }.ToJsonString();
                        break;
                    case "/vulnerabilities/index.json":
                        body = new JsonArray(new JsonObject
                        {
                            ["@name"] = "base",
                            ["@id"] = new Uri(root, "/vulnerabilities/base.json").ToString(),
                            ["@updated"] = "2026-01-01T00:00:00Z",
                        }).ToJsonString();
                        break;
                    case "/vulnerabilities/base.json":
                        Interlocked.Increment(ref server._served);
                        body = pageText;
                        break;
                    default:
                        context.Response.StatusCode = StatusCodes.Status404NotFound;
                        return Task.CompletedTask;
                }

                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync(body, context.RequestAborted);
            });
            await app.StartAsync(Token).WaitAsync(TimeSpan.FromSeconds(30), Token);
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync(CancellationToken.None);
            await _app.DisposeAsync();
        }
    }
}
