namespace EgressLab.Provisioner.Topology;

/// <summary>
/// Where each part of a loaded model came from, so the validator, which works on the model alone, can name the
/// item as the file does and give its line. It also remembers the named items that could not be mapped, so that
/// references to them are not reported a second time as unknown.
/// </summary>
internal sealed class TopologySourceMap
{
    private readonly Dictionary<object, Entry> entries = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, HashSet<string?>> unmapped = new(StringComparer.Ordinal);

    /// <summary>Records a model object by reference: its item path, its line, and the lines of its fields.</summary>
    public void Add(object owner, string path, int line, IReadOnlyDictionary<string, int> fieldLines) =>
        entries[owner] = new Entry(path, line, fieldLines);

    public bool TryLocate(object owner, string? field, out string item, out int? line)
    {
        if (!entries.TryGetValue(owner, out var entry))
        {
            item = string.Empty;
            line = null;
            return false;
        }

        item = Join(entry.Path, field);
        line = field is not null && entry.FieldLines.TryGetValue(field, out var fieldLine) ? fieldLine : entry.Line;
        return true;
    }

    /// <param name="collection">The list's path in the file, e.g. <c>subnets</c> or <c>internet.hosts</c>.</param>
    /// <param name="name">The item's name, or null when even that could not be read.</param>
    public void AddUnmapped(string collection, string? name)
    {
        if (!unmapped.TryGetValue(collection, out var names))
        {
            unmapped[collection] = names = new HashSet<string?>(StringComparer.Ordinal);
        }

        names.Add(name);
    }

    /// <summary>True when an item of <paramref name="collection"/> named <paramref name="name"/>, or one whose name is unknown, failed to map.</summary>
    public bool IsUnmapped(string collection, string name) =>
        unmapped.TryGetValue(collection, out var names) && (names.Contains(name) || names.Contains(null));

    public bool HasUnmapped(string collection) => unmapped.ContainsKey(collection);

    public static string Join(string path, string? field) =>
        field is null ? path : path.Length == 0 ? field : $"{path}.{field}";

    private sealed record Entry(string Path, int Line, IReadOnlyDictionary<string, int> FieldLines);
}
