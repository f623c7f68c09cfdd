using System.Text.Json;
using System.Text.Json.Nodes;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// One deployment of a template: parameter values (defaults, then the ones given), the conditions they decide, and
/// the resources that exist as a result, with each <c>Fn::If</c> resolved to its taken branch and
/// <c>AWS::NoValue</c> properties removed.
/// </summary>
internal sealed class TemplateVariant
{
    private TemplateVariant(string description, IReadOnlyDictionary<string, bool> conditions, IReadOnlyDictionary<string, JsonObject> resources)
    {
        Description = description;
        Conditions = conditions;
        Resources = resources;
    }

    /// <summary>How the variant reads in a message, e.g. "ProxyFleetSize=3".</summary>
    public string Description { get; }

    public IReadOnlyDictionary<string, bool> Conditions { get; }

    /// <summary>The resources that exist, by logical id, resolved.</summary>
    public IReadOnlyDictionary<string, JsonObject> Resources { get; }

    /// <summary>Evaluates the template's conditions for <paramref name="overrides"/> over the parameters' defaults.</summary>
    public static TemplateVariant? Evaluate(JsonObject template, IReadOnlyDictionary<string, string> overrides, List<TemplateFinding> findings)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (template["Parameters"] is JsonObject parameters)
        {
            foreach (var (name, parameter) in parameters)
            {
                if (parameter?["Default"] is JsonValue value)
                {
                    values[name] = Scalar(value);
                }
            }
        }

        foreach (var (name, value) in overrides)
        {
            values[name] = value;
        }

        var description = overrides.Count == 0
            ? "the parameters have their defaults"
            : string.Join(", ", overrides.Select(p => $"{p.Key}={p.Value}"));
        var definitions = template[nameof(Conditions)] as JsonObject ?? [];
        var conditions = new Dictionary<string, bool>(StringComparer.Ordinal);
        var evaluator = new ConditionEvaluator(definitions, values);
        foreach (var (name, _) in definitions)
        {
            if (evaluator.Evaluate(name, out var problem) is { } holds)
            {
                conditions[name] = holds;
            }
            else
            {
                findings.Add(new TemplateFinding("Conditions", name, $"cannot be evaluated: {problem}", "Give the parameters it reads a Default, or a value (--parameter NAME=VALUE)."));
            }
        }

        if (conditions.Count < definitions.Count)
        {
            return null;
        }

        var resources = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var (id, node) in template[nameof(Resources)] as JsonObject ?? [])
        {
            if (node is not JsonObject resource)
            {
                continue;
            }

            if (resource["Condition"] is JsonValue condition && conditions.TryGetValue(condition.ToString(), out var holds) && !holds)
            {
                continue;
            }

            resources[id] = (JsonObject)Resolve(resource, conditions)!;
        }

        return new TemplateVariant(description, conditions, resources);
    }

    /// <summary>A parameter value as CloudFormation passes it around: a string.</summary>
    public static string Scalar(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.String => value.GetValue<string>(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => value.ToJsonString(),
    };

    private static JsonNode? Resolve(JsonNode? node, IReadOnlyDictionary<string, bool> conditions)
    {
        switch (node)
        {
            case JsonObject { Count: 1 } obj when obj["Fn::If"] is JsonArray { Count: 3 } arguments
                && arguments[0] is JsonValue name && conditions.TryGetValue(name.ToString(), out var holds):
                return Resolve(arguments[holds ? 1 : 2], conditions);
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    var resolved = Resolve(value, conditions);
                    if (!IsNoValue(resolved))
                    {
                        copy[key] = resolved;
                    }
                }

                return copy;
            case JsonArray array:
                return new JsonArray([.. array.Select(item => Resolve(item, conditions)).Where(item => !IsNoValue(item))]);
            default:
                return node?.DeepClone();
        }
    }

    private static bool IsNoValue(JsonNode? node) =>
        node is JsonObject { Count: 1 } obj && obj["Ref"] is JsonValue name && name.ToString() == "AWS::NoValue";

    private sealed class ConditionEvaluator(JsonObject definitions, IReadOnlyDictionary<string, string> parameters)
    {
        private readonly Dictionary<string, bool?> _done = new(StringComparer.Ordinal);
        private readonly HashSet<string> _evaluating = new(StringComparer.Ordinal);

        public bool? Evaluate(string name, out string problem)
        {
            problem = "";
            if (_done.TryGetValue(name, out var known))
            {
                problem = known is null ? "it depends on a condition that cannot be evaluated" : "";
                return known;
            }

            if (!_evaluating.Add(name))
            {
                problem = $"it refers to itself through other conditions ('{name}')";
                return null;
            }

            var result = Condition(definitions[name], out problem);
            _evaluating.Remove(name);
            _done[name] = result;
            return result;
        }

        private bool? Condition(JsonNode? node, out string problem)
        {
            problem = "";
            if (node is not JsonObject { Count: 1 } obj)
            {
                problem = "a condition is one of Fn::Equals, Fn::Not, Fn::And, Fn::Or or {Condition: name}";
                return null;
            }

            var (function, arguments) = obj.First();
            var list = arguments as JsonArray;
            switch (function)
            {
                case "Condition" when arguments is JsonValue other && definitions.ContainsKey(other.ToString()):
                    return Evaluate(other.ToString(), out problem);
                case "Fn::Equals" when list is { Count: 2 }:
                    var left = Value(list[0], out problem);
                    var right = Value(list[1], out var rightProblem);
                    problem = problem.Length > 0 ? problem : rightProblem;
                    return left is null || right is null ? null : string.Equals(left, right, StringComparison.Ordinal);
                case "Fn::Not" when list is { Count: 1 }:
                    return !Condition(list[0], out problem);
                case "Fn::And" when list is { Count: >= 2 }:
                case "Fn::Or" when list is { Count: >= 2 }:
                    var results = new List<bool>();
                    foreach (var item in list)
                    {
                        if (Condition(item, out problem) is not { } value)
                        {
                            return null;
                        }

                        results.Add(value);
                    }

                    return function == "Fn::And" ? results.All(r => r) : results.Any(r => r);
                default:
                    problem = $"'{function}' with these arguments is not a condition CloudFormation can evaluate";
                    return null;
            }
        }

        private string? Value(JsonNode? node, out string problem)
        {
            problem = "";
            switch (node)
            {
                case JsonValue value:
                    return Scalar(value);
                case JsonObject { Count: 1 } obj when obj["Ref"] is JsonValue reference:
                    var name = reference.ToString();
                    if (parameters.TryGetValue(name, out var parameter))
                    {
                        return parameter;
                    }

                    problem = $"the parameter '{name}' has no value";
                    return null;
                default:
                    problem = "Fn::Equals compares literal values and parameter Refs only here";
                    return null;
            }
        }
    }

    public override string ToString() => Description;
}
