namespace EgressLab.ProxyInstance.Tests.Deploy;

/// <summary>Files of the repository the tests were built from, found upwards from the test assembly.</summary>
internal static class Repository
{
    public static string Root => RepositoryFiles.Root;

    public static string PublishScript => Path.Combine(Root, "deploy", "publish.sh");

    public static string Unit => Path.Combine(Root, "deploy", "systemd", "egress-proxy.service");

    public static string Config(string name) => Path.Combine(Root, "deploy", "config", name);
}
