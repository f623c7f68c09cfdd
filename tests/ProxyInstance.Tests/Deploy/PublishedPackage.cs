using System.Runtime.InteropServices;

namespace EgressLab.ProxyInstance.Tests.Deploy;

/// <summary>
/// Runs <c>deploy/publish.sh --out DIR --version test-1</c> once for a test class, from outside the repository, and
/// unpacks the tarball it makes. A failed run is recorded rather than thrown, so each test reports what it needs.
/// </summary>
public sealed class PublishedPackage : IAsyncLifetime
{
    public const string Version = "test-1";

    /// <summary>A cold NuGet cache downloads the linux-x64 runtime packs; a warm one publishes in seconds.</summary>
    public static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The build output a developer's own build keeps in the source tree, and where an in-tree or
    /// default-output publish would write: none of it may change.
    /// </summary>
    private static readonly string[] BuildOutputDirectories = ["src/ProxyInstance/bin", "src/ProxyInstance/obj", "artifacts", "dist"];

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("egress-publish-tests-");

    public string WorkDirectory => _directory.FullName;

    public string OutDirectory => Path.Combine(WorkDirectory, "out");

    public static string TarballName => $"egress-proxy-{Version}-linux-x64.tar.gz";

    public string Tarball => Path.Combine(OutDirectory, TarballName);

    /// <summary>The tarball's top directory, unpacked.</summary>
    public string PackageDirectory => Path.Combine(WorkDirectory, "unpacked", "egress-proxy");

    public string Executable => Path.Combine(PackageDirectory, "ProxyInstance");

    internal CommandResult Publish { get; private set; } = new(-1, "", "publish.sh has not run", TimeSpan.Zero);

    internal CommandResult? Unpack { get; private set; }

    public IReadOnlyDictionary<string, string> BuildOutputBefore { get; private set; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> BuildOutputAfter { get; private set; } = new Dictionary<string, string>();

    public async ValueTask InitializeAsync()
    {
        var token = TestContext.Current.CancellationToken;
        BuildOutputBefore = SnapshotBuildOutput();
        Publish = await ExternalCommand.RunAsync(Repository.PublishScript, ["--out", OutDirectory, "--version", Version], PublishTimeout, token,
            new Dictionary<string, string?> { ["PATH"] = PathWithTestDotnet() }, workingDirectory: WorkDirectory);
        BuildOutputAfter = SnapshotBuildOutput();
        if (File.Exists(Tarball))
        {
            var unpacked = Directory.CreateDirectory(Path.GetDirectoryName(PackageDirectory)!).FullName;
            Unpack = await ExternalCommand.RunAsync("tar", ["-xzf", Tarball, "-C", unpacked], TimeSpan.FromMinutes(2), token);
        }
    }

    public ValueTask DisposeAsync()
    {
        _directory.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }

    /// <summary>The script finds dotnet on PATH; put the one running these tests first, as a developer's shell would have it.</summary>
    private static string PathWithTestDotnet()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        // The runtime lives at <root>/shared/Microsoft.NETCore.App/<version>/; the host is <root>/dotnet.
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        return File.Exists(Path.Combine(root, "dotnet")) ? $"{root}:{path}" : path;
    }

    /// <summary>Every file under <see cref="BuildOutputDirectories"/> with its size and modification time.</summary>
    private static Dictionary<string, string> SnapshotBuildOutput()
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var relative in BuildOutputDirectories)
        {
            var directory = Path.Combine(Repository.Root, relative);
            if (!Directory.Exists(directory))
            {
                continue;
            }

            foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                files[Path.GetRelativePath(Repository.Root, file.FullName)] = $"{file.Length} bytes, written {file.LastWriteTimeUtc:O}";
            }
        }

        return files;
    }
}
