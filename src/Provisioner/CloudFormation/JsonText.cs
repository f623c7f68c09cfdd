using System.Text.Json;
using System.Text.Json.Nodes;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>The text of a JSON scalar, whatever .NET value a <see cref="JsonValue"/> was built from.</summary>
internal static class JsonText
{
    /// <summary>A string's value, or the JSON text of a number, boolean or null.</summary>
    public static string Of(JsonValue scalar)
    {
        ArgumentNullException.ThrowIfNull(scalar);
        if (scalar.GetValueKind() != JsonValueKind.String)
        {
            return scalar.ToJsonString();
        }

        if (scalar.TryGetValue<string>(out var text))
        {
            return text;
        }

        // Built from another .NET type that serializes as a string (a char, a Guid): read its JSON form back.
        using var document = JsonDocument.Parse(scalar.ToJsonString());
        return document.RootElement.GetString() ?? string.Empty;
    }
}
