using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// Recognises intrinsic functions in long form (<c>{"Ref": "X"}</c>, <c>{"Fn::GetAtt": ["A", "B"]}</c>): values that
/// CloudFormation computes at deploy time, so a template cannot be checked past them.
/// </summary>
internal static class IntrinsicFunction
{
    /// <summary>The functions that may stand where a property value goes.</summary>
    /// <remarks><c>Fn::Length</c> and <c>Fn::ToJsonString</c> come from the AWS::LanguageExtensions transform.</remarks>
    public static FrozenSet<string> ValueFunctions { get; } = FrozenSet.Create(
        StringComparer.Ordinal,
        "Ref",
        "Fn::Base64",
        "Fn::Cidr",
        "Fn::FindInMap",
        "Fn::GetAtt",
        "Fn::GetAZs",
        "Fn::If",
        "Fn::ImportValue",
        "Fn::Join",
        "Fn::Select",
        "Fn::Split",
        "Fn::Sub",
        "Fn::Transform",
        "Fn::Length",
        "Fn::ToJsonString");

    /// <summary>True when <paramref name="node"/> is an object with exactly one key, and that key is a value function.</summary>
    public static bool TryGet(JsonNode? node, out string name, out JsonNode? argument)
    {
        if (node is JsonObject { Count: 1 } function)
        {
            var (key, value) = function.First();
            if (ValueFunctions.Contains(key))
            {
                name = key;
                argument = value;
                return true;
            }
        }

        name = string.Empty;
        argument = null;
        return false;
    }

    /// <summary>
    /// True for <c>{"Ref": "AWS::NoValue"}</c>, which removes the property it is the value of, so it counts as absent.
    /// </summary>
    public static bool IsNoValue(JsonNode? node) =>
        TryGet(node, out var name, out var argument)
        && name == "Ref"
        && argument is JsonValue value
        && value.GetValueKind() == JsonValueKind.String
        && value.TryGetValue<string>(out var target)
        && target == "AWS::NoValue";
}
