using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>What the template validator asks of the embedded resource schemas.</summary>
internal static class ResourceSchemaChecks
{
    private static readonly ConcurrentDictionary<string, IReadOnlyCollection<string>?> Attributes = new(StringComparer.Ordinal);

    public static IReadOnlyList<TemplateFinding> Validate(string logicalId, string typeName, JsonNode? properties) =>
        ResourceSchemaValidator.Embedded.Validate(logicalId, typeName, properties);

    /// <summary>
    /// What <c>Fn::GetAtt</c> can read from a resource type: its read-only properties (set by CloudFormation, such as
    /// an Elastic IP's AllocationId) and its top-level properties. Null for a type without a schema here.
    /// </summary>
    public static IReadOnlyCollection<string>? AttributesOf(string typeName) => Attributes.GetOrAdd(typeName, static type =>
    {
        if (!ResourceSchemaSet.Embedded.TryGet(type, out var schema))
        {
            return null;
        }

        var names = new HashSet<string>(schema.ReadOnlyProperties, StringComparer.Ordinal);
        if (schema.Root.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                names.Add(property.Name);
            }
        }

        return names;
    });
}
