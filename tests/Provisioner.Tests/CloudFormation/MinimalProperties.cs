using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.Provisioner.CloudFormation;

namespace EgressLab.Provisioner.Tests.CloudFormation;

/// <summary>
/// Builds the smallest Properties a schema accepts: its required properties, the first choice of each
/// requiredXor, requiredOr and anyOf/oneOf of required lists, and for each value the simplest one its rules allow.
/// </summary>
internal static class MinimalProperties
{
    public static JsonObject For(ResourceSchema schema) => (JsonObject)Value(schema.Root, schema.Root, 0)!;

    private static JsonNode? Value(JsonElement rule, JsonElement root, int depth)
    {
        Assert.True(depth < 20, "the schema nests too deep for a minimal value");
        if (rule.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!["#/definitions/".Length..];
            return Value(root.GetProperty("definitions").GetProperty(name), root, depth + 1);
        }

        if (rule.TryGetProperty("enum", out var options))
        {
            return JsonNode.Parse(options[0].GetRawText());
        }

        var type = !rule.TryGetProperty("type", out var declared) ? (rule.TryGetProperty("properties", out _) ? "object" : "string")
            : declared.ValueKind == JsonValueKind.Array ? declared[0].GetString() : declared.GetString();
        switch (type)
        {
            case "object":
                var value = new JsonObject();
                foreach (var name in Required(rule))
                {
                    value[name] = Value(rule.GetProperty("properties").GetProperty(name), root, depth + 1);
                }

                return value;
            case "array":
                var list = new JsonArray();
                var count = rule.TryGetProperty("minItems", out var minItems) ? minItems.GetInt32() : 0;
                for (var i = 0; i < count; i++)
                {
                    list.Add(Value(rule.GetProperty("items"), root, depth + 1));
                }

                return list;
            case "integer" or "number":
                return JsonValue.Create(rule.TryGetProperty("minimum", out var minimum) ? Math.Max(minimum.GetInt32(), 1) : 1);
            case "boolean":
                return JsonValue.Create(false);
            default:
                var format = rule.TryGetProperty("format", out var f) ? f.GetString() : null;
                if (format == "ipv4-network")
                {
                    return JsonValue.Create("10.0.0.0/16");
                }

                if (format == "ipv6-network")
                {
                    return JsonValue.Create("2001:db8::/56");
                }

                var text = new string('x', rule.TryGetProperty("minLength", out var minLength) ? Math.Max(minLength.GetInt32(), 1) : 1);
                return rule.TryGetProperty("pattern", out var pattern) && !System.Text.RegularExpressions.Regex.IsMatch(text, pattern.GetString()!)
                    ? new JsonObject { ["Ref"] = "SampleParameter" }
                    : JsonValue.Create(text);
        }
    }

    private static List<string> Required(JsonElement rule)
    {
        var names = new List<string>();
        if (rule.TryGetProperty("required", out var required))
        {
            names.AddRange(required.EnumerateArray().Select(n => n.GetString()!));
        }

        foreach (var keyword in new[] { "requiredXor", "requiredOr" })
        {
            if (rule.TryGetProperty(keyword, out var choices))
            {
                names.Add(choices[0].GetString()!);
            }
        }

        foreach (var keyword in new[] { "anyOf", "oneOf" })
        {
            if (rule.TryGetProperty(keyword, out var alternatives) && alternatives[0].TryGetProperty("required", out var first))
            {
                names.AddRange(first.EnumerateArray().Select(n => n.GetString()!));
            }
        }

        return [.. names.Distinct(StringComparer.Ordinal)];
    }
}
