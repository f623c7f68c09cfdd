using System.Text.RegularExpressions;

namespace EgressLab.ProxyInstance.Tests.Hosting;

/// <summary>
/// The proxy's folders (each a namespace) depend on one another in one direction only: the front-ends (connections,
/// plain HTTP, tunnels) on admission, egress and outcomes, never the reverse. Read from the sources: every
/// <c>using</c> of a sibling namespace, every fully qualified name, and every name qualified by a sibling namespace
/// that is a type declared there.
/// </summary>
public sealed partial class DependencyDirectionTests
{
    // Lowest first: a folder may use only folders listed before it.
    private static readonly string[] Layers =
    [
        "Errors", "Targets", "Metrics", "Limits", "Authentication",
        "Policy",
        "Egress",
        "Configuration",
        "Lifetime",
        "Admission",
        "AccessLog",
        "Admin",
        "Tunnel",
        "Connections",
        "Forwarding",
        "Allowlist",
        "Hosting",
    ];

    [Fact]
    public void Folders_DependOnLowerLayersOnly()
    {
        var source = RepositoryFiles.PathOf("src", "ProxyInstance");
        var folders = Directory.GetDirectories(source).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).ToList();
        Assert.Equal(folders.Order(StringComparer.Ordinal), Layers.Order(StringComparer.Ordinal));

        var types = folders.ToDictionary(f => f!, f => Directory.GetFiles(Path.Combine(source, f!), "*.cs")
            .SelectMany(file => TypeDeclaration().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value)).ToHashSet());
        var problems = new List<string>();
        foreach (var folder in folders)
        {
            var rank = Array.IndexOf(Layers, folder);
            foreach (var file in Directory.GetFiles(Path.Combine(source, folder!), "*.cs"))
            {
                var text = File.ReadAllText(file);
                var used = UsingOrQualified().Matches(text).Select(m => m.Groups[1].Value)
                    .Concat(RelativeQualified().Matches(text).Where(m => types.TryGetValue(m.Groups[1].Value, out var declared) && declared.Contains(m.Groups[2].Value)).Select(m => m.Groups[1].Value))
                    .Distinct();
                foreach (var dependency in used.Where(d => d != folder))
                {
                    if (Array.IndexOf(Layers, dependency) is var other && (other < 0 || other > rank))
                    {
                        problems.Add($"{folder}/{Path.GetFileName(file)} uses {dependency}");
                    }
                }
            }
        }

        Assert.True(problems.Count == 0, "dependencies against the layering:\n" + string.Join("\n", problems));
    }

    [GeneratedRegex(@"EgressLab\.ProxyInstance\.([A-Z][A-Za-z]*)[.;]")]
    private static partial Regex UsingOrQualified();

    [GeneratedRegex(@"(?<![.\w])([A-Z][A-Za-z]*)\.([A-Z][A-Za-z]*)")]
    private static partial Regex RelativeQualified();

    [GeneratedRegex(@"\b(?:class|record|struct|enum|interface)\s+([A-Z][A-Za-z0-9]*)")]
    private static partial Regex TypeDeclaration();
}
