using System.Security.Cryptography;

namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>
/// Built once for <see cref="GitInteropTests"/>: the shared origin serving a bare repository as static files
/// (git's "dumb HTTP": <c>git update-server-info</c> writes the index files a client needs, so no git runs on the
/// server side). The repository holds a README and a 10 MiB file of incompressible bytes, so every clone is also a
/// 10 MiB download whose bytes the test checks. Public only because xunit hands it to the test class's constructor.
/// </summary>
public sealed class GitInteropFixture : IAsyncLifetime
{
    public const string Readme = "the interop repository\n";
    public const long BigFileSize = 10 * 1024 * 1024;

    private InteropEnvironment? _environment;

    internal InteropEnvironment Shared => _environment ?? throw new InvalidOperationException("not initialized");

    /// <summary>The git executable, or null when it is missing (the rows then skip).</summary>
    internal string? Git { get; } = Requirements.FindOnPath("git");

    /// <summary>The repository's path on the origin.</summary>
    internal string RepositoryPath { get; } = "/files/interop.git";

    internal string BigFileSha256 { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        var token = TestContext.Current.CancellationToken;
        _environment = await InteropEnvironment.StartAsync("git", token);
        if (Git is not { } git)
        {
            return;
        }

        var work = Path.Combine(Shared.Directory, "work");
        var repositories = Path.Combine(Shared.Directory, "repositories");
        Directory.CreateDirectory(work);
        Directory.CreateDirectory(repositories);
        await File.WriteAllTextAsync(Path.Combine(work, "README"), Readme, token);
        var big = InteropMatrixFixture.CounterModeBytes(BigFileSize);
        await File.WriteAllBytesAsync(Path.Combine(work, "big.bin"), big, token);
        BigFileSha256 = Convert.ToHexStringLower(SHA256.HashData(big));

        var bare = Path.Combine(repositories, "interop.git");
        await RunAsync(["init", "--quiet", "--initial-branch=main", work]);
        await RunAsync(["-C", work, "add", "README", "big.bin"]);
        await RunAsync(["-C", work, "-c", "user.name=Interop Test", "-c", "user.email=interop@example.com", "commit", "--quiet", "-m", "interop"]);
        await RunAsync(["clone", "--quiet", "--bare", work, bare]);
        await RunAsync(["-C", bare, "update-server-info"]);
        Shared.Origin.FilesRoot = repositories;

        async Task RunAsync(string[] args)
        {
            var result = await ClientProcess.RunAsync(git, args, Shared.Directory, IsolatedGit(), token);
            Assert.True(result.ExitCode == 0, $"git {string.Join(' ', args)}: {result}");
        }
    }

    /// <summary>Git with no system or global config, so no credential helper, proxy or CA comes from the machine.</summary>
    internal static Dictionary<string, string> IsolatedGit() => new()
    {
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["GIT_CONFIG_GLOBAL"] = "/dev/null",
        // A 407 must fail the clone, not wait for a password.
        ["GIT_TERMINAL_PROMPT"] = "0",
    };

    public async ValueTask DisposeAsync()
    {
        if (_environment is not null)
        {
            await _environment.DisposeAsync();
        }
    }
}
