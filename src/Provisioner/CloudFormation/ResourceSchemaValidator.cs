using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EgressLab.Provisioner.Topology;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// Checks a resource's <c>Properties</c> against its provider schema, the way CloudFormation and cfn-lint read
/// those schemas: the JSON Schema (draft-07) subset the shipped files use plus the CloudFormation keywords
/// (<c>requiredXor</c>, <c>requiredOr</c>, <c>dependentExcluded</c>, <c>dependentRequired</c>,
/// <c>readOnlyProperties</c>). Values CloudFormation computes at deploy time (intrinsic functions) are accepted
/// unchecked, except that each branch of <c>Fn::If</c> is checked. Collects every finding; never throws for a bad
/// template. Findings carry no line: the caller knows the file and maps <see cref="TemplateFinding.Property"/>
/// (<c>Resources.{logical id}.{Property}</c>) through <see cref="TemplateReadResult.LineOf(string)"/>.
/// </summary>
/// <remarks>
/// Keywords checked: <c>type</c>, <c>properties</c>, <c>additionalProperties</c>, <c>patternProperties</c>,
/// <c>$ref</c> (to <c>#/definitions/</c>), <c>items</c>, <c>uniqueItems</c>, <c>minItems</c>, <c>maxItems</c>,
/// <c>required</c>, <c>enum</c>, <c>minLength</c>, <c>maxLength</c>, <c>pattern</c>, <c>minimum</c>,
/// <c>maximum</c>, <c>format</c> (<c>ipv4-network</c>, <c>ipv6-network</c>; <c>json</c> and the <c>AWS::</c>
/// formats accept any string), <c>anyOf</c>, <c>oneOf</c>, <c>dependencies</c>, and the CloudFormation ones
/// above. Every other keyword in the files is an annotation for other tools (tagging, insertionOrder,
/// createOnlyProperties, ...) and is ignored.
/// </remarks>
internal sealed partial class ResourceSchemaValidator
{
    /// <summary>
    /// Each level of the value, each <c>$ref</c> and each <c>Fn::If</c> branch counts one; far deeper than any real
    /// resource (a launch template is about a dozen), and shallow enough that a hostile template cannot overflow the stack.
    /// </summary>
    public const int MaxDepth = 200;

    private const int MaxQuotedLength = 60;

    private readonly ResourceSchemaSet schemas;

    public ResourceSchemaValidator(ResourceSchemaSet schemas)
    {
        ArgumentNullException.ThrowIfNull(schemas);
        this.schemas = schemas;
    }

    /// <summary>A validator over the schemas embedded in this assembly.</summary>
    public static ResourceSchemaValidator Embedded { get; } = new(ResourceSchemaSet.Embedded);

    /// <param name="logicalId">The resource's logical id, which every finding names as its resource.</param>
    /// <param name="typeName">The resource's <c>Type</c>, such as <c>AWS::EC2::Route</c>.</param>
    /// <param name="properties">The resource's <c>Properties</c>, or null when it has none.</param>
    public IReadOnlyList<TemplateFinding> Validate(string logicalId, string typeName, JsonNode? properties)
    {
        ArgumentNullException.ThrowIfNull(logicalId);
        ArgumentNullException.ThrowIfNull(typeName);
        if (!schemas.TryGet(typeName, out var schema))
        {
            var known = string.Join(", ", schemas.TypeNames);
            var fix = NameSuggestion.Closest(typeName, schemas.TypeNames) is { } suggestion
                ? $"Did you mean '{suggestion}'? The known types are {known}."
                : $"Use one of the known types: {known}.";
            return [new TemplateFinding(logicalId, "Type", $"unknown resource type '{typeName}'", fix)];
        }

        var run = new Run(logicalId, schema, schemas);

        // A resource without Properties is a resource whose properties are all absent, so required ones are reported.
        run.Validate(schema.Root, properties is null || IntrinsicFunction.IsNoValue(properties) ? new JsonObject() : properties, "Properties", 0, run.Findings, isRoot: true);
        return run.Findings;
    }

    /// <summary>One validation: the resource, its schema, and the findings so far.</summary>
    private sealed class Run(string logicalId, ResourceSchema schema, ResourceSchemaSet schemas)
    {
        public List<TemplateFinding> Findings { get; } = [];

        public void Validate(JsonElement rule, JsonNode? value, string path, int depth, List<TemplateFinding> sink, bool isRoot = false)
        {
            if (depth > MaxDepth)
            {
                sink.Add(Finding(path, $"nests deeper than {MaxDepth.ToString(CultureInfo.InvariantCulture)} levels", "Flatten the value; no resource property nests this deep."));
                return;
            }

            if (rule.ValueKind == JsonValueKind.False)
            {
                sink.Add(Finding(path, "is not allowed here", "Remove it."));
                return;
            }

            if (rule.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (IntrinsicFunction.TryGet(value, out var function, out var argument))
            {
                // Any other function's result is known only at deploy time; Fn::If picks one of two values we can see.
                if (function == "Fn::If")
                {
                    ValidateIf(rule, argument, $"{path}.Fn::If", depth, sink, isRoot);
                }

                return;
            }

            if (rule.TryGetProperty("$ref", out var reference))
            {
                // Draft-07 (section 8.3): keywords beside $ref are ignored.
                if (Resolve(reference) is { } target)
                {
                    Validate(target, value, path, depth + 1, sink, isRoot);
                }

                return;
            }

            if (isRoot && value is not JsonObject)
            {
                sink.Add(Finding(path, $"must be a mapping of property names to values, not {Describe(value)}", "Write the properties as a mapping."));
                return;
            }

            var types = Types(rule);
            if (types.Count > 0 && !types.Any(type => MatchesType(type, value)))
            {
                sink.Add(Finding(path, $"must be {string.Join(" or ", types.Select(TypeWord))}, not {Describe(value)}", TypeFix(types[0])));
                return;
            }

            switch (value)
            {
                case JsonObject mapping:
                    ValidateObject(rule, mapping, path, depth, sink, isRoot);
                    break;
                case JsonArray list:
                    ValidateArray(rule, list, path, depth, sink);
                    break;
                case JsonValue scalar:
                    ValidateScalar(rule, scalar, types, path, sink);
                    break;
            }

            ValidateAlternatives(rule, value, path, depth, sink);
        }

        private void ValidateIf(JsonElement rule, JsonNode? argument, string path, int depth, List<TemplateFinding> sink, bool isRoot)
        {
            if (argument is not JsonArray { Count: 3 } branches)
            {
                sink.Add(Finding(path, $"must be a list of three items, [condition name, value if true, value if false], not {Describe(argument)}", "Fix the Fn::If."));
                return;
            }

            if (!IsString(branches[0]))
            {
                sink.Add(Finding($"{path}[0]", $"must be a condition name, not {Describe(branches[0])}", "Name a condition from the template's Conditions section."));
            }

            for (var i = 1; i <= 2; i++)
            {
                if (!IntrinsicFunction.IsNoValue(branches[i]))
                {
                    Validate(rule, branches[i], $"{path}[{i.ToString(CultureInfo.InvariantCulture)}]", depth + 1, sink, isRoot);
                }
            }
        }

        private void ValidateObject(JsonElement rule, JsonObject mapping, string path, int depth, List<TemplateFinding> sink, bool isRoot)
        {
            // {"Ref": "AWS::NoValue"} removes the property, so it counts as absent for every rule below.
            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, child) in mapping)
            {
                if (!IntrinsicFunction.IsNoValue(child))
                {
                    present.Add(name);
                }
            }

            ValidatePresence(rule, present, path, depth, mapping, sink);

            var properties = rule.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
            var patternProperties = rule.TryGetProperty("patternProperties", out var pp) && pp.ValueKind == JsonValueKind.Object ? pp : default;
            var additional = rule.TryGetProperty("additionalProperties", out var ap) ? ap : default;
            foreach (var (name, child) in mapping)
            {
                if (!present.Contains(name))
                {
                    continue;
                }

                var childPath = $"{path}.{name}";
                if (isRoot && schema.ReadOnlyProperties.Contains(name))
                {
                    sink.Add(Finding(childPath, "is read-only: CloudFormation sets it", "Remove it."));
                    continue;
                }

                var matched = false;
                if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(name, out var propertyRule))
                {
                    matched = true;
                    Validate(propertyRule, child, childPath, depth + 1, sink);
                }

                if (patternProperties.ValueKind == JsonValueKind.Object)
                {
                    foreach (var pattern in patternProperties.EnumerateObject())
                    {
                        if (IsMatch(pattern.Name, name) != false)
                        {
                            // An uncompilable or timed-out pattern cannot tell, so the key gets the benefit of the doubt.
                            matched = true;
                            Validate(pattern.Value, child, childPath, depth + 1, sink);
                        }
                    }
                }

                if (matched)
                {
                    continue;
                }

                if (additional.ValueKind == JsonValueKind.False)
                {
                    sink.Add(UnknownProperty(childPath, name, properties, patternProperties));
                }
                else if (additional.ValueKind == JsonValueKind.Object)
                {
                    Validate(additional, child, childPath, depth + 1, sink);
                }
            }
        }

        private void ValidatePresence(JsonElement rule, HashSet<string> present, string path, int depth, JsonObject mapping, List<TemplateFinding> sink)
        {
            foreach (var name in Names(rule, "required"))
            {
                if (!present.Contains(name))
                {
                    sink.Add(Finding(path, $"required property '{name}' is missing", "Add it."));
                }
            }

            var exclusive = Names(rule, "requiredXor");
            if (exclusive.Count > 0)
            {
                var set = exclusive.Where(present.Contains).ToList();
                if (set.Count == 0)
                {
                    sink.Add(Finding(path, $"needs exactly one of {Quoted(exclusive)}; none is set", "Add one of them."));
                }
                else if (set.Count > 1)
                {
                    sink.Add(Finding(path, $"sets {Quoted(set, "and")}, but exactly one of {Quoted(exclusive)} may be set", "Keep one and remove the others."));
                }
            }

            var anyOf = Names(rule, "requiredOr");
            if (anyOf.Count > 0 && !anyOf.Any(present.Contains))
            {
                sink.Add(Finding(path, $"needs at least one of {Quoted(anyOf)}; none is set", "Add one of them."));
            }

            if (rule.TryGetProperty("dependentExcluded", out var excluded) && excluded.ValueKind == JsonValueKind.Object)
            {
                // The schemas list most exclusions both ways (A excludes B, B excludes A); one finding per pair is enough.
                var reported = new HashSet<(string, string)>();
                foreach (var entry in excluded.EnumerateObject())
                {
                    if (!present.Contains(entry.Name))
                    {
                        continue;
                    }

                    foreach (var other in Strings(entry.Value))
                    {
                        var pair = string.CompareOrdinal(entry.Name, other) < 0 ? (entry.Name, other) : (other, entry.Name);
                        if (present.Contains(other) && reported.Add(pair))
                        {
                            sink.Add(Finding($"{path}.{entry.Name}", $"'{entry.Name}' and '{other}' cannot both be set", "Remove one of them."));
                        }
                    }
                }
            }

            foreach (var keyword in (ReadOnlySpan<string>)["dependentRequired", "dependencies"])
            {
                if (!rule.TryGetProperty(keyword, out var dependencies) || dependencies.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                foreach (var entry in dependencies.EnumerateObject())
                {
                    if (!present.Contains(entry.Name))
                    {
                        continue;
                    }

                    if (entry.Value.ValueKind == JsonValueKind.Object)
                    {
                        // Draft-07 "dependencies" (section 6.5.7) may also name a schema the whole object must then satisfy.
                        Validate(entry.Value, mapping, path, depth + 1, sink);
                        continue;
                    }

                    foreach (var needed in Strings(entry.Value))
                    {
                        if (!present.Contains(needed))
                        {
                            sink.Add(Finding($"{path}.{entry.Name}", $"'{entry.Name}' requires '{needed}', which is missing", $"Add '{needed}' or remove '{entry.Name}'."));
                        }
                    }
                }
            }
        }

        private void ValidateArray(JsonElement rule, JsonArray list, string path, int depth, List<TemplateFinding> sink)
        {
            var count = list.Count(item => !IntrinsicFunction.IsNoValue(item));
            if (Number(rule, "minItems") is { } minItems && count < minItems)
            {
                sink.Add(Finding(path, $"has {Items(count)}, but needs at least {Items(minItems)}", "Add items."));
            }

            if (Number(rule, "maxItems") is { } maxItems && count > maxItems)
            {
                sink.Add(Finding(path, $"has {Items(count)}, but allows at most {Items(maxItems)}", "Remove items."));
            }

            if (rule.TryGetProperty("items", out var items) && items.ValueKind is JsonValueKind.Object or JsonValueKind.False)
            {
                for (var i = 0; i < list.Count; i++)
                {
                    Validate(items, list[i], $"{path}[{i.ToString(CultureInfo.InvariantCulture)}]", depth + 1, sink);
                }
            }

            if (rule.TryGetProperty("uniqueItems", out var unique) && unique.ValueKind == JsonValueKind.True)
            {
                var seen = new Dictionary<string, int>(StringComparer.Ordinal);
                for (var i = 0; i < list.Count; i++)
                {
                    var key = Canonical(list[i]);
                    if (!seen.TryAdd(key, i))
                    {
                        sink.Add(Finding($"{path}[{i.ToString(CultureInfo.InvariantCulture)}]", $"repeats item [{seen[key].ToString(CultureInfo.InvariantCulture)}]; the items must be unique", "Remove the duplicate."));
                    }
                }
            }
        }

        private void ValidateScalar(JsonElement rule, JsonValue scalar, List<string> types, string path, List<TemplateFinding> sink)
        {
            var kind = scalar.GetValueKind();
            var text = JsonText.Of(scalar);

            if (rule.TryGetProperty("enum", out var allowed) && allowed.ValueKind == JsonValueKind.Array)
            {
                var options = allowed.EnumerateArray().Select(option => option.ValueKind == JsonValueKind.String ? option.GetString()! : option.GetRawText()).ToList();
                if (!options.Contains(text, StringComparer.Ordinal))
                {
                    var fix = NameSuggestion.Closest(text, options) is { } suggestion ? $"Did you mean '{suggestion}'?" : "Use one of the listed values.";
                    sink.Add(Finding(path, $"must be one of {Quoted(options)}, not '{Shorten(text)}'", fix));
                }
            }

            // String keywords look at strings, and at numbers and booleans where the schema wants a string, since
            // CloudFormation passes those on as their text.
            var isText = kind == JsonValueKind.String || (types.Count > 0 && types.All(type => type == "string"));
            if (isText)
            {
                ValidateText(rule, text, path, sink);
            }

            if (kind is JsonValueKind.Number or JsonValueKind.String
                && types.Any(type => type is "integer" or "number")
                && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                && double.IsFinite(number))
            {
                if (Number(rule, "minimum") is { } minimum && number < minimum)
                {
                    sink.Add(Finding(path, $"must be at least {Format(minimum)}, not {text}", $"Use a value from {Format(minimum)}{Range(rule)}."));
                }

                if (Number(rule, "maximum") is { } maximum && number > maximum)
                {
                    sink.Add(Finding(path, $"must be at most {Format(maximum)}, not {text}", $"Use a value up to {Format(maximum)}."));
                }
            }
        }

        private void ValidateText(JsonElement rule, string text, string path, List<TemplateFinding> sink)
        {
            // JSON Schema counts characters as code points (draft-07 validation section 6.3.1), not UTF-16 units.
            var length = text.EnumerateRunes().Count();
            if (Number(rule, "minLength") is { } minLength && length < minLength)
            {
                sink.Add(Finding(path, $"is {Characters(length)} long, but must be at least {Characters(minLength)}", "Lengthen it."));
            }

            if (Number(rule, "maxLength") is { } maxLength && length > maxLength)
            {
                sink.Add(Finding(path, $"is {Characters(length)} long, but may be at most {Characters(maxLength)}", "Shorten it."));
            }

            if (rule.TryGetProperty("pattern", out var pattern) && pattern.ValueKind == JsonValueKind.String
                && IsMatch(pattern.GetString()!, text) == false)
            {
                sink.Add(Finding(path, $"'{Shorten(text)}' does not match the pattern {pattern.GetString()}", "Change the value to match the pattern."));
            }

            if (rule.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.String)
            {
                switch (format.GetString())
                {
                    case "ipv4-network" when !IsIpv4Network(text):
                        sink.Add(Finding(path, $"'{Shorten(text)}' is not an IPv4 CIDR block (a.b.c.d/n, each number 0-255 without leading zeros, n 0-32)", "Write it like 10.0.0.0/16."));
                        break;
                    case "ipv6-network" when !IsIpv6Network(text):
                        sink.Add(Finding(path, $"'{Shorten(text)}' is not an IPv6 CIDR block (address/n, n 0-128)", "Write it like 2001:db8::/56."));
                        break;

                        // "json" takes a string or an object, which the type keyword already checked; the AWS::...
                        // formats name what the string identifies (a security group id), which only AWS can check.
                }
            }
        }

        private void ValidateAlternatives(JsonElement rule, JsonNode? value, string path, int depth, List<TemplateFinding> sink)
        {
            foreach (var keyword in (ReadOnlySpan<string>)["anyOf", "oneOf"])
            {
                if (!rule.TryGetProperty(keyword, out var alternatives) || alternatives.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                // Each alternative is tried on the side; a subschema with only relationshipRef has nothing to check, so it matches.
                var matching = new List<int>();
                var forms = new List<string>();
                var index = 0;
                foreach (var alternative in alternatives.EnumerateArray())
                {
                    var trial = new List<TemplateFinding>();
                    Validate(alternative, value, path, depth + 1, trial);
                    if (trial.Count == 0)
                    {
                        matching.Add(index);
                    }

                    forms.Add(DescribeForm(alternative, trial));
                    index++;
                }

                if (matching.Count == 0)
                {
                    sink.Add(Finding(path, $"matches none of the allowed forms: {string.Join("; or ", forms)}", "Change it to match one of them."));
                }
                else if (keyword == "oneOf" && matching.Count > 1)
                {
                    sink.Add(Finding(path, $"matches more than one of the exclusive forms: {string.Join("; and ", matching.Select(i => forms[i]))}", "Keep the properties of exactly one form."));
                }
            }
        }

        private static string DescribeForm(JsonElement alternative, List<TemplateFinding> trial)
        {
            if (alternative.ValueKind == JsonValueKind.Object && alternative.TryGetProperty("required", out _) && alternative.EnumerateObject().Count() == 1)
            {
                return $"{Quoted(Names(alternative, "required"), "and")} set";
            }

            if (alternative.ValueKind == JsonValueKind.Object && alternative.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.String)
            {
                return $"format {format.GetString()}";
            }

            return trial.Count > 0 ? trial[0].Message : "any value";
        }

        private TemplateFinding UnknownProperty(string path, string name, JsonElement properties, JsonElement patternProperties)
        {
            var known = properties.ValueKind == JsonValueKind.Object ? properties.EnumerateObject().Select(p => p.Name).ToList() : [];
            if (NameSuggestion.Closest(name, known) is { } suggestion)
            {
                return Finding(path, "unknown property", $"Did you mean '{suggestion}'?");
            }

            if (known.Count > 0)
            {
                return Finding(path, "unknown property", $"Remove it; the known properties here are {string.Join(", ", known)}.");
            }

            if (patternProperties.ValueKind == JsonValueKind.Object)
            {
                var patterns = string.Join(" or ", patternProperties.EnumerateObject().Select(p => p.Name));
                return Finding(path, $"'{Shorten(name)}' is not an allowed key here: keys must match {patterns}", "Rename or remove it.");
            }

            return Finding(path, "unknown property: this mapping takes no properties", "Remove it.");
        }

        /// <summary>True or false when the pattern decides; null when it cannot (does not compile in .NET, or timed out).</summary>
        private bool? IsMatch(string pattern, string text)
        {
            if (schemas.Pattern(pattern) is not { } regex)
            {
                return null;
            }

            try
            {
                // JSON Schema patterns are not anchored (draft-07 validation section 6.3.3): a match anywhere counts.
                return regex.IsMatch(text);
            }
            catch (RegexMatchTimeoutException)
            {
                return null;
            }
        }

        private JsonElement? Resolve(JsonElement reference)
        {
            const string Prefix = "#/definitions/";
            if (reference.ValueKind != JsonValueKind.String || reference.GetString() is not { } pointer || !pointer.StartsWith(Prefix, StringComparison.Ordinal))
            {
                return null;
            }

            return schema.Root.TryGetProperty("definitions", out var definitions) && definitions.ValueKind == JsonValueKind.Object
                && definitions.TryGetProperty(pointer[Prefix.Length..], out var target)
                ? target
                : null;
        }

        private TemplateFinding Finding(string path, string message, string fix) => new(logicalId, path, message, fix);
    }

    private static List<string> Types(JsonElement rule)
    {
        if (!rule.TryGetProperty("type", out var type))
        {
            return [];
        }

        return type.ValueKind == JsonValueKind.String ? [type.GetString()!] : Strings(type);
    }

    /// <summary>Type checks with CloudFormation's coercions: it converts scalars between text, number and boolean.</summary>
    private static bool MatchesType(string type, JsonNode? value)
    {
        if (value is JsonObject)
        {
            return type == "object";
        }

        if (value is JsonArray)
        {
            return type == "array";
        }

        if (value is not JsonValue scalar || scalar.GetValueKind() == JsonValueKind.Null)
        {
            return type == "null";
        }

        var kind = scalar.GetValueKind();
        var text = JsonText.Of(scalar);
        return type switch
        {
            "string" => kind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False,
            "integer" => kind is JsonValueKind.Number or JsonValueKind.String && IsInteger(kind, text),
            "number" => kind is JsonValueKind.Number || (kind == JsonValueKind.String && NumberText().IsMatch(text)),
            "boolean" => kind is JsonValueKind.True or JsonValueKind.False
                || (kind == JsonValueKind.String && (text.Equals("true", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase))),
            "null" => false,
            "object" or "array" => false,
            _ => true,
        };
    }

    /// <summary>A JSON number such as 1.0 is an integer too (draft-07 core section 4.2.2); a string must hold digits.</summary>
    private static bool IsInteger(JsonValueKind kind, string text) =>
        kind == JsonValueKind.String
            ? IntegerText().IsMatch(text)
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) && Math.Floor(number) == number;

    private static string TypeWord(string type) => type switch
    {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean (true or false)",
        "object" => "a mapping",
        "array" => "a list",
        "null" => "null",
        _ => type,
    };

    private static string TypeFix(string type) => type switch
    {
        "string" => "Write a text value.",
        "integer" => "Write a whole number, such as 443.",
        "number" => "Write a number.",
        "boolean" => "Write true or false.",
        "object" => "Write a mapping of names to values.",
        "array" => "Write a list, one '- item' per line in YAML or [...] in JSON.",
        _ => "Change the value's type.",
    };

    private static string Describe(JsonNode? value)
    {
        switch (value)
        {
            case JsonObject:
                return "a mapping";
            case JsonArray:
                return "a list";
            case JsonValue scalar:
                var kind = scalar.GetValueKind();
                var text = JsonText.Of(scalar);
                return kind switch
                {
                    JsonValueKind.String => $"the string \"{Shorten(text)}\"",
                    JsonValueKind.Number => $"the number {Shorten(text)}",
                    JsonValueKind.True or JsonValueKind.False => $"the boolean {text}",
                    _ => "null",
                };
            default:
                return "null";
        }
    }

    private static bool IsString(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.String;

    /// <summary>A text form equal for equal JSON values (object keys sorted), for uniqueItems.</summary>
    private static string Canonical(JsonNode? node)
    {
        var text = new StringBuilder();
        Append(node, 0);
        return text.ToString();

        void Append(JsonNode? current, int depth)
        {
            switch (current)
            {
                case JsonObject mapping when depth < MaxDepth:
                    text.Append('{');
                    foreach (var (key, child) in mapping.OrderBy(entry => entry.Key, StringComparer.Ordinal))
                    {
                        text.Append(JsonValue.Create(key).ToJsonString()).Append(':');
                        Append(child, depth + 1);
                        text.Append(',');
                    }

                    text.Append('}');
                    break;
                case JsonArray list when depth < MaxDepth:
                    text.Append('[');
                    foreach (var child in list)
                    {
                        Append(child, depth + 1);
                        text.Append(',');
                    }

                    text.Append(']');
                    break;
                case JsonValue scalar:
                    text.Append(scalar.ToJsonString());
                    break;
                case null:
                    text.Append("null");
                    break;
                default:
                    text.Append('…');
                    break;
            }
        }
    }

    private static bool IsIpv4Network(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !Ipv4.TryParseAddress(text[..slash], out _, out _))
        {
            return false;
        }

        var prefix = text[(slash + 1)..];
        return IsPrefix(prefix, 32);
    }

    private static bool IsIpv6Network(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return false;
        }

        var address = text[..slash];

        // IPAddress.TryParse also takes "[::1]", scope ids ("fe80::1%eth0") and IPv4; a CIDR block has none of them.
        return address.Contains(':', StringComparison.Ordinal)
            && address.IndexOfAny(['%', '[', ']', ' ']) < 0
            && IPAddress.TryParse(address, out var parsed)
            && parsed.AddressFamily == AddressFamily.InterNetworkV6
            && IsPrefix(text[(slash + 1)..], 128);
    }

    private static bool IsPrefix(string text, int max) =>
        text.Length is > 0 and <= 3
        && text.All(char.IsAsciiDigit)
        && (text.Length == 1 || text[0] != '0')
        && int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) <= max;

    private static double? Number(JsonElement rule, string keyword) =>
        rule.TryGetProperty(keyword, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    private static List<string> Names(JsonElement rule, string keyword) =>
        rule.TryGetProperty(keyword, out var names) ? Strings(names) : [];

    private static List<string> Strings(JsonElement array) =>
        array.ValueKind == JsonValueKind.Array
            ? [.. array.EnumerateArray().Where(item => item.ValueKind == JsonValueKind.String).Select(item => item.GetString()!)]
            : [];

    private static string Quoted(IEnumerable<string> names, string last = "or")
    {
        var list = names.Select(name => $"'{name}'").ToList();
        return list.Count switch
        {
            0 => "nothing",
            1 => list[0],
            _ => $"{string.Join(", ", list.Take(list.Count - 1))} {last} {list[^1]}",
        };
    }

    private static string Range(JsonElement rule) => Number(rule, "maximum") is { } maximum ? $" to {Format(maximum)}" : " up";

    private static string Items(double count) => count == 1 ? "1 item" : $"{Format(count)} items";

    private static string Characters(double count) => count == 1 ? "1 character" : $"{Format(count)} characters";

    private static string Format(double number) => number.ToString(CultureInfo.InvariantCulture);

    private static string Shorten(string text) => text.Length <= MaxQuotedLength ? text : $"{text[..MaxQuotedLength]}…";

    [GeneratedRegex(@"^[-+]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex IntegerText();

    [GeneratedRegex(@"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberText();
}
