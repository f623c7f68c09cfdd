using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// Validates a template offline: its sections and resource shapes, every resource's <c>Properties</c> against the
/// resource type's schema, every name it refers to, and, for each variant its parameters allow, the network rules
/// CloudFormation or EC2 would otherwise reject at deploy time (or accept and leave broken).
/// </summary>
internal static class TemplateValidator
{
    private static readonly HashSet<string> Sections = new(StringComparer.Ordinal)
    {
        "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings", "Conditions",
        "Transform", "Resources", "Outputs",
    };

    private static readonly HashSet<string> ResourceKeys = new(StringComparer.Ordinal)
    {
        "Type", "Properties", "DependsOn", "Condition", "Metadata", "CreationPolicy", "UpdatePolicy", "DeletionPolicy",
        "UpdateReplacePolicy",
    };

    private static readonly HashSet<string> OutputKeys = new(StringComparer.Ordinal) { "Description", "Value", "Export", "Condition" };

    private static readonly HashSet<string> ParameterKeys = new(StringComparer.Ordinal)
    {
        "Type", "Default", "Description", "AllowedPattern", "AllowedValues", "ConstraintDescription", "MaxLength",
        "MinLength", "MaxValue", "MinValue", "NoEcho",
    };

    private static readonly HashSet<string> PlainParameterTypes = new(StringComparer.Ordinal) { "String", "Number", "List<Number>", "CommaDelimitedList" };

    private static readonly Regex LogicalId = new("^[A-Za-z0-9]{1,255}$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>
    /// Validates <paramref name="template"/>. The variants checked are the parameters' defaults with
    /// <paramref name="parameters"/> over them, and then, one parameter at a time, each value a condition can tell
    /// apart: every allowed value, or a number's minimum and maximum.
    /// </summary>
    public static IReadOnlyList<TemplateFinding> Validate(JsonObject template, IReadOnlyDictionary<string, string>? parameters = null)
    {
        parameters ??= new Dictionary<string, string>(StringComparer.Ordinal);
        var findings = new List<TemplateFinding>();
        CheckSections(template, findings);
        CheckParameters(template, parameters, findings);
        if (template["Resources"] is not JsonObject resources)
        {
            return findings;
        }

        foreach (var (id, node) in resources)
        {
            CheckResource(id, node, findings);
        }

        CheckOutputs(template, findings);
        TemplateReferences.CheckAll(template, ResourceSchemaChecks.AttributesOf, findings);

        // Each variant repeats the checks above for what it keeps; a fault is reported once, the first time it is seen.
        var seen = findings.Select(f => f.ToString()).ToHashSet(StringComparer.Ordinal);
        var first = true;
        var decided = new HashSet<string>(StringComparer.Ordinal);
        foreach (var variant in Variants(template, parameters))
        {
            var variantFindings = new List<TemplateFinding>();
            var evaluated = TemplateVariant.Evaluate(template, variant, variantFindings);

            // Parameter values that decide every condition the same way as one already checked give the same template.
            if (evaluated is not null && !decided.Add(string.Join(",", evaluated.Conditions.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}"))))
            {
                continue;
            }

            if (evaluated is not null)
            {
                TemplateReferences.CheckVariant(template, evaluated.Resources.Keys.ToHashSet(StringComparer.Ordinal), evaluated.Conditions, evaluated.Description, ResourceSchemaChecks.AttributesOf, variantFindings);
                NetworkChecks.Check(evaluated, variantFindings);
            }

            foreach (var finding in variantFindings)
            {
                if (seen.Add(finding.ToString()))
                {
                    findings.Add(first || finding.Message.Contains(" when ", StringComparison.Ordinal)
                        ? finding
                        : finding with { Message = $"{finding.Message} (when {string.Join(", ", variant.Select(p => $"{p.Key}={p.Value}"))})" });
                }
            }

            first = false;
        }

        return findings;
    }

    /// <summary>The parameter sets to check: the given one first, then one change at a time for each parameter a condition reads.</summary>
    private static IEnumerable<IReadOnlyDictionary<string, string>> Variants(JsonObject template, IReadOnlyDictionary<string, string> given)
    {
        yield return given;
        var read = new HashSet<string>(StringComparer.Ordinal);
        CollectRefs(template["Conditions"], read);
        foreach (var (name, node) in template["Parameters"] as JsonObject ?? [])
        {
            if (!read.Contains(name) || given.ContainsKey(name) || node is not JsonObject parameter)
            {
                continue;
            }

            var values = new List<string>();
            if (parameter["AllowedValues"] is JsonArray allowed)
            {
                values.AddRange(allowed.OfType<JsonValue>().Select(TemplateVariant.Scalar));
            }
            else
            {
                values.AddRange(new[] { parameter["MinValue"], parameter["MaxValue"] }.OfType<JsonValue>().Select(TemplateVariant.Scalar));
            }

            foreach (var value in values.Distinct(StringComparer.Ordinal))
            {
                yield return new Dictionary<string, string>(given, StringComparer.Ordinal) { [name] = value };
            }
        }
    }

    private static void CollectRefs(JsonNode? node, HashSet<string> names)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    if (key == "Ref" && value is JsonValue name)
                    {
                        names.Add(name.ToString());
                    }

                    CollectRefs(value, names);
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    CollectRefs(item, names);
                }

                break;
        }
    }

    private static void CheckSections(JsonObject template, List<TemplateFinding> findings)
    {
        foreach (var (key, _) in template)
        {
            if (!Sections.Contains(key))
            {
                findings.Add(new TemplateFinding("template", key, "is not a template section", Hint(key, Sections, "The sections are " + string.Join(", ", Sections) + ".")));
            }
        }

        if (template["AWSTemplateFormatVersion"] is { } version && version.ToString() != "2010-09-09")
        {
            findings.Add(new TemplateFinding("template", "AWSTemplateFormatVersion", $"'{version}' is not a template format version", "The only version is 2010-09-09."));
        }

        switch (template["Resources"])
        {
            case null:
                findings.Add(new TemplateFinding("template", "Resources", "is missing; a template needs at least one resource", "Add a Resources section."));
                break;
            case JsonObject { Count: 0 }:
                findings.Add(new TemplateFinding("template", "Resources", "is empty; a template needs at least one resource", "Add a resource."));
                break;
            case not JsonObject:
                findings.Add(new TemplateFinding("template", "Resources", "must be a mapping of logical ids to resources", "Write each resource as LogicalId: {Type: ..., Properties: ...}."));
                break;
        }

        foreach (var section in new[] { "Parameters", "Conditions", "Outputs", "Mappings" })
        {
            if (template[section] is { } node && node is not JsonObject)
            {
                findings.Add(new TemplateFinding("template", section, "must be a mapping", $"Write {section} as name: value pairs."));
            }
        }

        foreach (var section in new[] { "Parameters", "Conditions", "Resources", "Outputs" })
        {
            foreach (var (name, _) in template[section] as JsonObject ?? [])
            {
                if (!LogicalId.IsMatch(name))
                {
                    findings.Add(new TemplateFinding(section, name, "is not a valid logical id", "Use 1 to 255 letters and digits only."));
                }
            }
        }
    }

    private static void CheckParameters(JsonObject template, IReadOnlyDictionary<string, string> given, List<TemplateFinding> findings)
    {
        var parameters = template["Parameters"] as JsonObject ?? [];
        foreach (var name in given.Keys.Where(k => !parameters.ContainsKey(k)))
        {
            findings.Add(new TemplateFinding("Parameters", name, "was given a value but the template has no such parameter", Hint(name, parameters.Select(p => p.Key), "Check the name.")));
        }

        foreach (var (name, node) in parameters)
        {
            if (node is not JsonObject parameter)
            {
                findings.Add(new TemplateFinding("Parameters", name, "must be a mapping with at least a Type", "Write it as Name: {Type: String, ...}."));
                continue;
            }

            foreach (var (key, _) in parameter.Where(p => !ParameterKeys.Contains(p.Key)))
            {
                findings.Add(new TemplateFinding("Parameters", $"{name}.{key}", "is not a parameter property", Hint(key, ParameterKeys, "Remove it.")));
            }

            var type = parameter["Type"]?.ToString();
            if (type is null)
            {
                findings.Add(new TemplateFinding("Parameters", name, "has no Type", "Add Type: String (or Number, CommaDelimitedList, an AWS-specific type)."));
                continue;
            }

            if (!PlainParameterTypes.Contains(type) && !type.StartsWith("AWS::", StringComparison.Ordinal) && !type.StartsWith("List<AWS::", StringComparison.Ordinal))
            {
                findings.Add(new TemplateFinding("Parameters", $"{name}.Type", $"'{type}' is not a parameter type", Hint(type, PlainParameterTypes, "Use String, Number, List<Number>, CommaDelimitedList or an AWS-specific type.")));
            }

            var value = given.TryGetValue(name, out var g) ? g : parameter["Default"] is JsonValue d ? TemplateVariant.Scalar(d) : null;
            if (value is not null)
            {
                CheckParameterValue(name, parameter, type, value, given.ContainsKey(name), findings);
            }
        }
    }

    private static void CheckParameterValue(string name, JsonObject parameter, string type, string value, bool given, List<TemplateFinding> findings)
    {
        var which = given ? "the value given" : "Default";
        var property = given ? name : $"{name}.Default";
        if (type == "Number")
        {
            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                findings.Add(new TemplateFinding("Parameters", property, $"{which} '{value}' is not a number", "Give a number."));
                return;
            }

            if (parameter["MinValue"] is JsonValue min && double.TryParse(TemplateVariant.Scalar(min), NumberStyles.Float, CultureInfo.InvariantCulture, out var low) && number < low)
            {
                findings.Add(new TemplateFinding("Parameters", property, $"{which} {value} is below MinValue {TemplateVariant.Scalar(min)}", "Give a larger number."));
            }

            if (parameter["MaxValue"] is JsonValue max && double.TryParse(TemplateVariant.Scalar(max), NumberStyles.Float, CultureInfo.InvariantCulture, out var high) && number > high)
            {
                findings.Add(new TemplateFinding("Parameters", property, $"{which} {value} is above MaxValue {TemplateVariant.Scalar(max)}", "Give a smaller number."));
            }
        }

        if (type == "String" && parameter["AllowedPattern"] is JsonValue pattern)
        {
            // CloudFormation matches the whole value; the schema set compiles and caches patterns safely (linear time, or a timeout).
            if (ResourceSchemaSet.Embedded.Pattern("^(?:" + pattern + ")$") is not { } regex)
            {
                findings.Add(new TemplateFinding("Parameters", $"{name}.AllowedPattern", "is not a valid regular expression", "Fix the pattern."));
                return;
            }

            bool matches;
            try
            {
                matches = regex.IsMatch(value);
            }
            catch (RegexMatchTimeoutException)
            {
                return;
            }

            if (!matches)
            {
                var constraint = parameter["ConstraintDescription"]?.ToString();
                findings.Add(new TemplateFinding("Parameters", property, $"{which} '{value}' does not match AllowedPattern", constraint is null ? "Give a value the pattern allows." : $"Expected {constraint}."));
            }
        }

        if (parameter["AllowedValues"] is JsonArray allowed && !allowed.OfType<JsonValue>().Select(TemplateVariant.Scalar).Contains(value, StringComparer.Ordinal))
        {
            findings.Add(new TemplateFinding("Parameters", property, $"{which} '{value}' is not one of AllowedValues", $"Use one of: {string.Join(", ", allowed.OfType<JsonValue>().Select(TemplateVariant.Scalar))}."));
        }
    }

    private static void CheckResource(string id, JsonNode? node, List<TemplateFinding> findings)
    {
        if (node is not JsonObject resource)
        {
            findings.Add(new TemplateFinding(id, "", "must be a mapping with Type and Properties", "Write it as LogicalId: {Type: AWS::..., Properties: {...}}."));
            return;
        }

        foreach (var (key, _) in resource.Where(p => !ResourceKeys.Contains(p.Key)))
        {
            findings.Add(new TemplateFinding(id, key, "is not a resource attribute", Hint(key, ResourceKeys, "Put resource settings under Properties.")));
        }

        if (resource["Type"] is not JsonValue type || type.GetValueKind() != JsonValueKind.String)
        {
            findings.Add(new TemplateFinding(id, "Type", "is missing or not a string", "Give the resource type, such as AWS::EC2::Instance."));
            return;
        }

        if (resource["Properties"] is { } properties && properties is not JsonObject)
        {
            findings.Add(new TemplateFinding(id, "Properties", "must be a mapping", "Write the properties as name: value pairs."));
            return;
        }

        if (resource["DependsOn"] is { } dependsOn && dependsOn is not JsonValue && (dependsOn is not JsonArray list || list.Any(n => n is not JsonValue)))
        {
            findings.Add(new TemplateFinding(id, "DependsOn", "must be a logical id or a list of them", "Write DependsOn: OtherResource, or a list."));
        }

        findings.AddRange(ResourceSchemaChecks.Validate(id, type.GetValue<string>(), resource["Properties"]));
    }

    private static void CheckOutputs(JsonObject template, List<TemplateFinding> findings)
    {
        foreach (var (name, node) in template["Outputs"] as JsonObject ?? [])
        {
            if (node is not JsonObject output || output["Value"] is null)
            {
                findings.Add(new TemplateFinding("Outputs", name, "has no Value", "Give the output a Value."));
                continue;
            }

            foreach (var (key, _) in output.Where(p => !OutputKeys.Contains(p.Key)))
            {
                findings.Add(new TemplateFinding("Outputs", $"{name}.{key}", "is not an output property", Hint(key, OutputKeys, "Remove it.")));
            }
        }
    }

    private static string Hint(string name, IEnumerable<string> known, string otherwise) =>
        Topology.NameSuggestion.Closest(name, known) is { } close ? $"Did you mean '{close}'?" : otherwise;
}
