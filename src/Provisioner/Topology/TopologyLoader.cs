namespace EgressLab.Provisioner.Topology;

/// <summary>
/// Loads a topology file: parses YAML or JSON into one node tree that keeps line numbers, maps it to the
/// <see cref="TopologyModel"/> by hand and validates it, collecting every problem with its line and a fix.
/// Never throws for a bad or missing file; the result carries the errors instead.
/// </summary>
internal static class TopologyLoader
{
    public static TopologyLoadResult Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        TopologyFormat format;
        switch (extension)
        {
            case ".yaml" or ".yml":
                format = TopologyFormat.Yaml;
                break;
            case ".json":
                format = TopologyFormat.Json;
                break;
            default:
                var what = extension.Length == 0 ? "has no extension" : $"has the extension '{extension}'";
                return Failed(path, $"the file {what}, so its format is unknown", "Use a file ending in .yaml, .yml or .json.");
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Failed(path, "the file does not exist", $"Check the path; the default topology is {DefaultTopology.Path}.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return Failed(path, $"the file cannot be read: {ex.Message.TrimEnd('.')}", "Check that the path names a readable file.");
        }

        return Parse(text, path, format);
    }

    public static TopologyLoadResult Parse(string text, string sourceName, TopologyFormat format)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(sourceName);
        var errors = new List<TopologyError>();

        // A byte order mark survives when the caller decoded the bytes itself, and the JSON reader rejects it.
        text = text.TrimStart('\uFEFF');
        var root = format == TopologyFormat.Json
            ? TopologyJsonReader.Read(text, sourceName, errors)
            : TopologyYamlReader.Read(text, sourceName, errors);
        if (root is null)
        {
            return new TopologyLoadResult(null, errors);
        }

        var model = TopologyMapper.Map(root, sourceName, errors, out var map);
        if (model is not null)
        {
            errors.AddRange(TopologyValidator.Validate(model, map));
        }

        // In file order, as an editor shows them; problems without a line (file-wide ones) first.
        var ordered = errors.OrderBy(e => e.Line ?? 0).ToList();
        return new TopologyLoadResult(ordered.Count == 0 ? model : null, ordered);
    }

    private static TopologyLoadResult Failed(string path, string message, string fix) =>
        new(null, [new TopologyError(path, null, "file", message, fix)]);
}
