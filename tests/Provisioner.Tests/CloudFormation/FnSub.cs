using System.Text;
using System.Text.Json.Nodes;

namespace EgressLab.Provisioner.Tests.CloudFormation;

/// <summary>
/// <c>Fn::Sub</c> as CloudFormation resolves it: <c>${Name}</c> becomes the name's value, <c>${!Name}</c> becomes the
/// literal <c>${Name}</c>, and a <c>$</c> not followed by <c>{</c> (bash's <c>$name</c>, <c>$(...)</c>) stays as it is.
/// </summary>
internal static class FnSub
{
    /// <summary>The names a body substitutes, in order of appearance, without the <c>${!...}</c> literals.</summary>
    public static IReadOnlyList<string> Placeholders(string text)
    {
        var names = new List<string>();
        Scan(text, name => { names.Add(name); return ""; });
        return names;
    }

    /// <summary>The body with every placeholder replaced by <paramref name="value"/>'s answer for its name.</summary>
    public static string Resolve(string text, Func<string, string> value) => Scan(text, value);

    /// <summary>
    /// A user-data node (<c>Fn::Base64</c> over an <c>Fn::Sub</c>) split into its body and variables map; the short
    /// form has an empty map.
    /// </summary>
    public static (string Text, JsonObject Variables) Parts(JsonNode userData)
    {
        var sub = userData["Fn::Base64"]!["Fn::Sub"];
        return sub switch
        {
            JsonArray { Count: 2 } pair => (pair[0]!.GetValue<string>(), (JsonObject)pair[1]!),
            JsonValue text => (text.GetValue<string>(), []),
            _ => throw new InvalidOperationException($"user-data is not Fn::Base64 over Fn::Sub: {userData.ToJsonString()}"),
        };
    }

    /// <summary>
    /// Resolves a user-data node for the given parameter values (pseudo-parameters included, as AWS::Region): map
    /// values may be strings or Ref, Fn::If, Fn::Join and Fn::Split over the parameters.
    /// </summary>
    public static string ResolveUserData(JsonNode userData, IReadOnlyDictionary<string, string> parameters)
    {
        var (text, variables) = Parts(userData);
        return Resolve(text, name => variables.TryGetPropertyValue(name, out var variable)
            ? Evaluate(variable, parameters).Single()
            : parameters.TryGetValue(name, out var parameter) ? parameter : throw new InvalidOperationException($"no value for ${{{name}}}"));
    }

    private static string Scan(string text, Func<string, string> value)
    {
        var result = new StringBuilder(text.Length);
        var at = 0;
        for (var start = text.IndexOf("${", StringComparison.Ordinal); start >= 0; start = text.IndexOf("${", at, StringComparison.Ordinal))
        {
            var end = text.IndexOf('}', start + 2);
            if (end < 0)
            {
                throw new InvalidOperationException($"'${{' with no closing '}}' at {start}");
            }

            result.Append(text, at, start - at);
            var name = text[(start + 2)..end];
            result.Append(name.StartsWith('!') ? "${" + name[1..] + "}" : value(name));
            at = end + 1;
        }

        return result.Append(text, at, text.Length - at).ToString();
    }

    private static List<string> Evaluate(JsonNode? node, IReadOnlyDictionary<string, string> parameters) => node switch
    {
        JsonValue value => [value.ToString()],
        JsonObject { Count: 1 } function when function["Ref"] is { } name => [parameters[name.GetValue<string>()]],
        // A condition's value is given as a parameter named "Condition:<name>", "true" or "false".
        JsonObject { Count: 1 } function when function["Fn::If"] is JsonArray { Count: 3 } choice =>
            Evaluate(parameters[$"Condition:{choice[0]!.GetValue<string>()}"] == "true" ? choice[1] : choice[2], parameters),
        JsonObject { Count: 1 } function when function["Fn::Sub"] is JsonValue text =>
            [Scan(text.GetValue<string>(), name => parameters[name])],
        JsonObject { Count: 1 } function when function["Fn::Join"] is JsonArray { Count: 2 } join =>
            [string.Join(join[0]!.GetValue<string>(), Evaluate(join[1], parameters))],
        JsonObject { Count: 1 } function when function["Fn::Split"] is JsonArray { Count: 2 } split =>
            [.. Evaluate(split[1], parameters).Single().Split(split[0]!.GetValue<string>())],
        JsonArray list => [.. list.SelectMany(item => Evaluate(item, parameters))],
        _ => throw new InvalidOperationException($"the test cannot evaluate {node?.ToJsonString()}; teach FnSub.Evaluate this function"),
    };
}
