using System.Collections.Frozen;
using System.Text.Json;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>One resource type's provider schema, as CloudFormation publishes it.</summary>
internal sealed class ResourceSchema
{
    private const string PropertiesPointer = "/properties/";

    public ResourceSchema(string typeName, string source, JsonElement root)
    {
        TypeName = typeName;
        Source = source;
        Root = root;
        ReadOnlyProperties = TopLevelNames(root, "readOnlyProperties");
    }

    /// <summary>The CloudFormation type name, such as <c>AWS::EC2::Route</c>, from the schema's <c>typeName</c>.</summary>
    public string TypeName { get; }

    /// <summary>Where the schema came from (the embedded resource's name), for messages about the schema itself.</summary>
    public string Source { get; }

    /// <summary>The whole schema document; immutable, so it is safe to read from many threads.</summary>
    public JsonElement Root { get; }

    /// <summary>
    /// The top-level properties CloudFormation sets itself (<c>readOnlyProperties</c> <c>/properties/X</c>); pointers
    /// into nested properties are left out, since a template cannot set those apart from their parent.
    /// </summary>
    public IReadOnlySet<string> ReadOnlyProperties { get; }

    private static FrozenSet<string> TopLevelNames(JsonElement root, string keyword)
    {
        var names = new List<string>();
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(keyword, out var pointers) && pointers.ValueKind == JsonValueKind.Array)
        {
            foreach (var pointer in pointers.EnumerateArray())
            {
                if (pointer.ValueKind == JsonValueKind.String && pointer.GetString() is { } text
                    && text.StartsWith(PropertiesPointer, StringComparison.Ordinal)
                    && text.IndexOf('/', PropertiesPointer.Length) < 0)
                {
                    // JSON pointer escapes (RFC 6901 section 4): "~1" is "/", "~0" is "~".
                    names.Add(text[PropertiesPointer.Length..].Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal));
                }
            }
        }

        return names.ToFrozenSet(StringComparer.Ordinal);
    }
}
