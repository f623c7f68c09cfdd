namespace EgressLab.Tests.Shared;

/// <summary>Files of the repository the tests were built from, found by walking up from the test binary.</summary>
internal static class RepositoryFiles
{
    /// <summary>The directory holding EgressLab.slnx.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EgressLab.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no EgressLab.slnx above {AppContext.BaseDirectory}");
    }
}
