using System.Globalization;
using System.Text.Json.Nodes;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// Checks that every name a template uses exists: <c>Ref</c>, <c>Fn::GetAtt</c>, <c>Fn::Sub</c> variables,
/// <c>Fn::If</c> and <c>Condition</c> names, and <c>DependsOn</c>. In a variant (parameter values given), only the
/// resources whose condition holds exist and only the taken branch of each <c>Fn::If</c> counts, so a reference to
/// a resource that the variant leaves out is found as CloudFormation would find it at deploy time.
/// </summary>
internal sealed class TemplateReferences
{
    /// <summary>CloudFormation's pseudo parameters.</summary>
    public static readonly IReadOnlySet<string> PseudoParameters = new HashSet<string>(StringComparer.Ordinal)
    {
        "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackId",
        "AWS::StackName", "AWS::URLSuffix",
    };

    private readonly HashSet<string> _parameters;
    private readonly IReadOnlySet<string> _resources;
    private readonly HashSet<string> _allResources;
    private readonly HashSet<string> _conditions;
    private readonly IReadOnlyDictionary<string, bool>? _conditionValues;
    private readonly Func<string, IReadOnlyCollection<string>?> _attributesOf;
    private readonly Dictionary<string, string> _typeOf;
    private readonly List<TemplateFinding> _findings;
    private readonly string _variant;

    private TemplateReferences(
        JsonObject template,
        IReadOnlySet<string> resources,
        IReadOnlyDictionary<string, bool>? conditionValues,
        Func<string, IReadOnlyCollection<string>?> attributesOf,
        string variant,
        List<TemplateFinding> findings)
    {
        _parameters = Names(template["Parameters"]);
        _allResources = Names(template["Resources"]);
        _resources = resources;
        _conditions = Names(template["Conditions"]);
        _conditionValues = conditionValues;
        _attributesOf = attributesOf;
        _variant = variant;
        _findings = findings;
        _typeOf = (template["Resources"] as JsonObject ?? [])
            .Where(p => p.Value?["Type"] is JsonValue)
            .ToDictionary(p => p.Key, p => p.Value!["Type"]!.ToString(), StringComparer.Ordinal);
    }

    /// <summary>Checks every reference in the template, whatever the conditions.</summary>
    /// <param name="attributesOf">The attributes <c>Fn::GetAtt</c> may read from a resource type, or null when the type is unknown.</param>
    public static void CheckAll(JsonObject template, Func<string, IReadOnlyCollection<string>?> attributesOf, List<TemplateFinding> findings)
    {
        var checker = new TemplateReferences(template, Names(template["Resources"]), null, attributesOf, "", findings);
        checker.CheckTemplate(template);
    }

    /// <summary>Checks the references of one variant: the resources in <paramref name="present"/> and the given condition values.</summary>
    public static void CheckVariant(
        JsonObject template,
        IReadOnlySet<string> present,
        IReadOnlyDictionary<string, bool> conditionValues,
        string variant,
        Func<string, IReadOnlyCollection<string>?> attributesOf,
        List<TemplateFinding> findings)
    {
        var checker = new TemplateReferences(template, present, conditionValues, attributesOf, variant, findings);
        checker.CheckTemplate(template);
    }

    private void CheckTemplate(JsonObject template)
    {
        if (_conditionValues is null && template["Conditions"] is JsonObject conditions)
        {
            foreach (var (name, body) in conditions)
            {
                Walk(body, "Conditions", name, inConditions: true);
            }
        }

        if (template["Resources"] is JsonObject resources)
        {
            foreach (var (id, resource) in resources)
            {
                if (!_resources.Contains(id) || resource is not JsonObject body)
                {
                    continue;
                }

                if (body["Condition"] is JsonValue condition && !_conditions.Contains(condition.ToString()))
                {
                    Add(id, "Condition", $"names the condition '{condition}', which the template does not define", Suggest(condition.ToString(), _conditions, "Conditions"));
                }

                CheckDependsOn(id, body["DependsOn"]);
                Walk(body["Properties"], id, "Properties", inConditions: false);
            }
        }

        if (template["Outputs"] is JsonObject outputs)
        {
            foreach (var (name, output) in outputs)
            {
                if (output is not JsonObject body)
                {
                    continue;
                }

                if (body["Condition"] is JsonValue condition)
                {
                    if (!_conditions.Contains(condition.ToString()))
                    {
                        Add("Outputs", $"{name}.Condition", $"names the condition '{condition}', which the template does not define", Suggest(condition.ToString(), _conditions, "Conditions"));
                        continue;
                    }

                    if (_conditionValues is not null && _conditionValues.TryGetValue(condition.ToString(), out var holds) && !holds)
                    {
                        continue;
                    }
                }

                Walk(body["Value"], "Outputs", $"{name}.Value", inConditions: false);
            }
        }
    }

    private void CheckDependsOn(string id, JsonNode? dependsOn)
    {
        var names = dependsOn switch
        {
            JsonValue single => [single.ToString()],
            JsonArray list => list.Select(n => n?.ToString() ?? "").ToList(),
            _ => new List<string>(),
        };
        foreach (var name in names)
        {
            if (name == id)
            {
                Add(id, "DependsOn", "names the resource itself", "Remove it from DependsOn.");
            }
            else if (!_allResources.Contains(name))
            {
                Add(id, "DependsOn", $"names '{name}', which is not a resource in the template", Suggest(name, _allResources, "Resources"));
            }
            else if (!_resources.Contains(name))
            {
                Add(id, "DependsOn", $"names '{name}', which does not exist when {_variant}", "Put both resources under the same condition, or drop the dependency.");
            }
        }
    }

    private void Walk(JsonNode? node, string resource, string path, bool inConditions)
    {
        switch (node)
        {
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(array[i], resource, $"{path}[{i.ToString(CultureInfo.InvariantCulture)}]", inConditions);
                }

                break;
            case JsonObject obj when obj.Count == 1:
                var (key, value) = obj.First();
                var at = $"{path}.{key}";
                switch (key)
                {
                    case "Ref":
                        CheckRef(value?.ToString() ?? "", resource, at, inConditions);
                        return;
                    case "Fn::GetAtt":
                        CheckGetAtt(value, resource, at);
                        return;
                    case "Fn::Sub":
                        CheckSub(value, resource, at, inConditions);
                        return;
                    case "Condition" when inConditions:
                        if (!_conditions.Contains(value?.ToString() ?? ""))
                        {
                            Add(resource, at, $"names the condition '{value}', which the template does not define", Suggest(value?.ToString() ?? "", _conditions, "Conditions"));
                        }

                        return;
                    case "Fn::If":
                        CheckIf(value, resource, at, inConditions);
                        return;
                }

                Walk(value, resource, at, inConditions);
                break;
            case JsonObject obj:
                foreach (var (name, member) in obj)
                {
                    Walk(member, resource, $"{path}.{name}", inConditions);
                }

                break;
        }
    }

    private void CheckIf(JsonNode? arguments, string resource, string at, bool inConditions)
    {
        if (arguments is not JsonArray { Count: 3 } list || list[0] is not JsonValue name)
        {
            Add(resource, at, "Fn::If takes [condition name, value if true, value if false]", "Write it as a list of three.");
            return;
        }

        var condition = name.ToString();
        if (!_conditions.Contains(condition))
        {
            Add(resource, $"{at}[0]", $"names the condition '{condition}', which the template does not define", Suggest(condition, _conditions, "Conditions"));
            return;
        }

        if (_conditionValues is not null && _conditionValues.TryGetValue(condition, out var holds))
        {
            Walk(list[holds ? 1 : 2], resource, $"{at}[{(holds ? 1 : 2).ToString(CultureInfo.InvariantCulture)}]", inConditions);
            return;
        }

        Walk(list[1], resource, $"{at}[1]", inConditions);
        Walk(list[2], resource, $"{at}[2]", inConditions);
    }

    private void CheckRef(string name, string resource, string at, bool inConditions)
    {
        if (PseudoParameters.Contains(name) || _parameters.Contains(name))
        {
            return;
        }

        if (inConditions)
        {
            Add(resource, at, $"refers to '{name}'; conditions can refer to parameters only", Suggest(name, _parameters, "Parameters"));
        }
        else if (!_allResources.Contains(name))
        {
            Add(resource, at, $"refers to '{name}', which is neither a parameter nor a resource", Suggest(name, _parameters.Concat(_allResources), "Parameters or Resources"));
        }
        else if (!_resources.Contains(name))
        {
            Add(resource, at, $"refers to '{name}', which does not exist when {_variant}", "Put the reference under the same condition (Fn::If), or the resource under none.");
        }
    }

    private void CheckGetAtt(JsonNode? value, string resource, string at)
    {
        string? target = null;
        string? attribute = null;
        if (value is JsonArray { Count: 2 } pair && pair[0] is JsonValue first)
        {
            target = first.ToString();
            attribute = pair[1] is JsonValue second ? second.ToString() : null;
        }
        else if (value is JsonValue dotted && dotted.ToString() is var text && text.IndexOf('.', StringComparison.Ordinal) is > 0 and var dot)
        {
            target = text[..dot];
            attribute = text[(dot + 1)..];
        }

        if (target is null)
        {
            Add(resource, at, "Fn::GetAtt takes [resource, attribute]", "Write it as a list of two names.");
            return;
        }

        CheckAttribute(target, attribute, resource, at);
    }

    private void CheckAttribute(string target, string? attribute, string resource, string at)
    {
        if (!_allResources.Contains(target))
        {
            Add(resource, at, $"reads an attribute of '{target}', which is not a resource in the template", Suggest(target, _allResources, "Resources"));
            return;
        }

        if (!_resources.Contains(target))
        {
            Add(resource, at, $"reads an attribute of '{target}', which does not exist when {_variant}", "Put the reference under the same condition (Fn::If), or the resource under none.");
            return;
        }

        // An attribute computed at deploy time (Fn::GetAtt [X, !Ref Y]) cannot be checked here.
        if (attribute is null || !_typeOf.TryGetValue(target, out var type) || _attributesOf(type) is not { } attributes)
        {
            return;
        }

        if (!attributes.Contains(attribute))
        {
            var hint = Topology.NameSuggestion.Closest(attribute, attributes) is { } close ? $"Did you mean '{close}'? " : "";
            Add(resource, at, $"{type} has no attribute '{attribute}'", $"{hint}Its attributes: {string.Join(", ", attributes.Order(StringComparer.Ordinal))}.");
        }
    }

    private void CheckSub(JsonNode? value, string resource, string at, bool inConditions)
    {
        string? text;
        var locals = new HashSet<string>(StringComparer.Ordinal);
        if (value is JsonArray { Count: 2 } pair && pair[0] is JsonValue body && pair[1] is JsonObject variables)
        {
            text = body.ToString();
            foreach (var (name, variable) in variables)
            {
                locals.Add(name);
                Walk(variable, resource, $"{at}[1].{name}", inConditions);
            }
        }
        else if (value is JsonValue plain)
        {
            text = plain.ToString();
        }
        else
        {
            Add(resource, at, "Fn::Sub takes a string, or [string, {variable: value}]", "Write it in one of those two forms.");
            return;
        }

        for (var start = text.IndexOf("${", StringComparison.Ordinal); start >= 0; start = text.IndexOf("${", start + 2, StringComparison.Ordinal))
        {
            var end = text.IndexOf('}', start + 2);
            if (end < 0)
            {
                Add(resource, at, "has a '${' with no closing '}'", "Close it, or write ${! for a literal ${.");
                return;
            }

            var name = text[(start + 2)..end].Trim();
            if (name.StartsWith('!'))
            {
                continue;
            }

            if (locals.Contains(name))
            {
                continue;
            }

            var dot = name.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && !PseudoParameters.Contains(name))
            {
                CheckAttribute(name[..dot], name[(dot + 1)..], resource, at);
            }
            else
            {
                CheckRef(name, resource, at, inConditions);
            }
        }
    }

    private void Add(string resource, string property, string message, string fix) =>
        _findings.Add(new TemplateFinding(resource, property, message, fix));

    private static string Suggest(string name, IEnumerable<string> known, string section) =>
        Topology.NameSuggestion.Closest(name, known) is { } close
            ? $"Did you mean '{close}'?"
            : $"Define it under {section}, or correct the name.";

    private static HashSet<string> Names(JsonNode? section) =>
        section is JsonObject obj ? obj.Select(p => p.Key).ToHashSet(StringComparer.Ordinal) : [];
}
