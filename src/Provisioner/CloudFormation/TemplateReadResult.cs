using System.Text.Json.Nodes;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// What <see cref="TemplateReader"/> made of a file: the template, or the errors that kept it from being one
/// (never both), and where each value stood in the file.
/// </summary>
internal sealed class TemplateReadResult
{
    private readonly IReadOnlyDictionary<string, int> lines;

    public TemplateReadResult(string source, JsonObject? template, List<TemplateFinding> errors, IReadOnlyDictionary<string, int> lines)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(lines);
        Source = source;
        Template = template;
        Errors = errors;
        this.lines = lines;
    }

    /// <summary>The file name (or other label) the text came from, for messages.</summary>
    public string Source { get; }

    /// <summary>The template with intrinsic functions in long form, or null when <see cref="Errors"/> is not empty.</summary>
    public JsonObject? Template { get; }

    /// <summary>Why there is no template, in file order; each names <c>template</c> as its resource.</summary>
    public List<TemplateFinding> Errors { get; }

    /// <summary>
    /// The 1-based line of a value, by its path from the top: keys joined by dots, list items as <c>[index]</c>, as in
    /// <c>Resources.PrivateRoute.Properties.Tags[0].Key</c>. A mapping entry's line is its key's. When the path goes
    /// past what the file holds (a property the validator says is missing), the nearest ancestor's line is returned;
    /// null only when not even the top has one.
    /// </summary>
    public int? LineOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        while (true)
        {
            if (lines.TryGetValue(path, out var line))
            {
                return line;
            }

            if (path.Length == 0)
            {
                return null;
            }

            path = Parent(path);
        }
    }

    /// <summary>The path with its last step removed.</summary>
    private static string Parent(string path)
    {
        var cut = path.EndsWith(']') ? path.LastIndexOf('[') : path.LastIndexOf('.');
        return cut <= 0 ? string.Empty : path[..cut];
    }
}
