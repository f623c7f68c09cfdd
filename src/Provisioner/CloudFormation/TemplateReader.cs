using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressLab.Provisioner.Topology;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

using EgressLab.Provisioner.Documents;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// Reads a CloudFormation template, JSON or YAML, into a <see cref="JsonObject"/> with intrinsic functions in long
/// form (<c>!Ref X</c> becomes <c>{"Ref": "X"}</c>), remembering each value's line. Never throws for bad input: the
/// result carries every error it found, with its line.
/// </summary>
internal static class TemplateReader
{
    /// <summary>
    /// How deep mappings and lists may nest, counting a short-form function as the level its long form adds.
    /// A template is about ten levels deep; the limit keeps recursion off the end of the stack.
    /// </summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// How many values a template may expand to. YAML aliases share nodes, so a small file can stand for a huge
    /// tree ("billion laughs"); CloudFormation takes at most 1 MB of template, far fewer values than this.
    /// </summary>
    public const int MaxNodes = 500_000;

    private const string Template = "template";

    /// <summary>The short-form tags and the long-form keys they stand for.</summary>
    private static readonly FrozenDictionary<string, string> ShortForms = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["!Ref"] = "Ref",
        ["!Condition"] = "Condition",
        ["!Base64"] = "Fn::Base64",
        ["!Cidr"] = "Fn::Cidr",
        ["!FindInMap"] = "Fn::FindInMap",
        ["!GetAtt"] = "Fn::GetAtt",
        ["!GetAZs"] = "Fn::GetAZs",
        ["!If"] = "Fn::If",
        ["!ImportValue"] = "Fn::ImportValue",
        ["!Join"] = "Fn::Join",
        ["!Select"] = "Fn::Select",
        ["!Split"] = "Fn::Split",
        ["!Sub"] = "Fn::Sub",
        ["!Transform"] = "Fn::Transform",
        ["!And"] = "Fn::And",
        ["!Equals"] = "Fn::Equals",
        ["!Not"] = "Fn::Not",
        ["!Or"] = "Fn::Or",
        ["!Length"] = "Fn::Length",
        ["!ToJsonString"] = "Fn::ToJsonString",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly JsonReaderOptions JsonOptions = new()
    {
        // CloudFormation's JSON is strict RFC 8259: no comments, no trailing commas.
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        // One more than ours, so that ReadJsonValue, not the reader, reports a template that nests too deep.
        MaxDepth = MaxDepth + 1,
    };

    /// <summary>Reads JSON when the first character that is not white space is '{', YAML otherwise.</summary>
    /// <param name="text">The template text.</param>
    /// <param name="source">The file name or other label, kept in the result for messages.</param>
    public static TemplateReadResult Read(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);

        // A byte order mark survives when the caller decoded the bytes itself, and the JSON reader rejects it.
        text = text.TrimStart('\uFEFF');
        var errors = new List<TemplateFinding>();
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);

        // JSON's and YAML's white space only: a no-break space is text to YAML, so "\u00A0{a: 1}" is not JSON.
        var trimmed = text.AsSpan().TrimStart(" \t\r\n");
        if (trimmed.IsEmpty)
        {
            errors.Add(Empty());
            return new TemplateReadResult(source, null, errors, lines);
        }

        var root = trimmed[0] == '{' ? ReadJson(text, errors, lines) : ReadYaml(text, errors, lines);
        JsonObject? template = null;
        if (errors.Count == 0)
        {
            template = CheckSections(root, errors, lines);
        }

        // In file order, as an editor shows them; errors without a line (file-wide ones) first.
        var ordered = errors.OrderBy(e => e.Line ?? 0).ToList();
        return new TemplateReadResult(source, ordered.Count == 0 ? template : null, ordered, lines);
    }

    private static JsonObject? CheckSections(JsonNode? root, List<TemplateFinding> errors, Dictionary<string, int> lines)
    {
        if (root is null)
        {
            errors.Add(Empty());
            return null;
        }

        if (root is not JsonObject template)
        {
            errors.Add(new TemplateFinding(
                Template,
                string.Empty,
                $"the top level is {Kind(root)}, but a template is a mapping of sections",
                "Write the template as a mapping with sections such as AWSTemplateFormatVersion, Parameters and Resources.",
                lines.GetValueOrDefault(string.Empty, 1)));
            return null;
        }

        if (!template.TryGetPropertyValue("Resources", out var resources))
        {
            var fix = NameSuggestion.Closest("Resources", template.Select(entry => entry.Key)) is { } misspelt
                ? $"Rename '{misspelt}' to Resources."
                : "Add a Resources section with at least one resource; CloudFormation requires it.";
            errors.Add(new TemplateFinding(Template, "Resources", "the template has no Resources section", fix, lines.GetValueOrDefault(string.Empty)));
            return null;
        }

        if (resources is not JsonObject resourceMap)
        {
            errors.Add(new TemplateFinding(
                Template,
                "Resources",
                $"Resources is {Kind(resources)}, but it must be a mapping of logical ids to resources",
                "Write each resource as 'LogicalId:' with Type and Properties indented below it.",
                lines.GetValueOrDefault("Resources")));
            return null;
        }

        if (resourceMap.Count == 0)
        {
            errors.Add(new TemplateFinding(Template, "Resources", "Resources is empty", "Define at least one resource; CloudFormation requires one.", lines.GetValueOrDefault("Resources")));
            return null;
        }

        return template;
    }

    private static TemplateFinding Empty() =>
        new(Template, string.Empty, "the template is empty", "Write the template's sections: at least Resources, with one resource.", null);

    private static string Kind(JsonNode? node) => node switch
    {
        JsonObject => "a mapping",
        JsonArray => "a list",
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        },
        _ => "null",
    };

    private static string Child(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static string Item(string path, int index) => $"{path}[{index.ToString(CultureInfo.InvariantCulture)}]";

    private static JsonNode? ReadJson(string text, List<TemplateFinding> errors, Dictionary<string, int> lines)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var state = new JsonState(new LineIndex(bytes), errors);
        var reader = new Utf8JsonReader(bytes, JsonOptions);
        try
        {
            reader.Read();
            var root = ReadJsonValue(ref reader, string.Empty, 1, state, lines);
            if (state.Stopped)
            {
                return null;
            }

            // Anything but white space after the root value makes Read throw.
            reader.Read();
            return root;
        }
        catch (JsonException ex)
        {
            var line = ex.LineNumber is { } zeroBased ? (int?)(zeroBased + 1) : null;
            errors.Add(new TemplateFinding(Template, string.Empty, $"invalid JSON: {DocumentText.Describe(ex)}", "Fix the JSON at this line (check commas, brackets and quotes).", line));
            return null;
        }
        catch (InvalidOperationException)
        {
            // GetString throws this for an escape that makes no valid UTF-16, such as a lone "\ud800".
            errors.Add(new TemplateFinding(Template, string.Empty, "invalid JSON: a string holds an escape that is not a valid character", "Fix the \\u escapes in the string at this line.", state.Lines.LineOf(reader.TokenStartIndex)));
            return null;
        }
    }

    /// <param name="level">The level of a mapping or list that starts here; the top is 1.</param>
    /// <param name="lines">Where to record lines, or null while skipping the value of a duplicate key.</param>
    private static JsonNode? ReadJsonValue(ref Utf8JsonReader reader, string path, int level, JsonState state, Dictionary<string, int>? lines)
    {
        var line = state.Lines.LineOf(reader.TokenStartIndex);
        lines?.TryAdd(path, line);
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && level > MaxDepth)
        {
            // Checked here rather than left to the reader, whose message names its option, not the template's limit.
            state.Errors.Add(TooDeep(line));
            state.Stopped = true;
            return null;
        }

        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var mapping = new JsonObject();
                while (!state.Stopped && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var key = reader.GetString() ?? string.Empty;
                    var keyLine = state.Lines.LineOf(reader.TokenStartIndex);
                    reader.Read();
                    if (mapping.ContainsKey(key))
                    {
                        state.Errors.Add(Duplicate(path, key, keyLine));
                        ReadJsonValue(ref reader, path, level + 1, state, null);
                        continue;
                    }

                    var childPath = Child(path, key);
                    lines?.TryAdd(childPath, keyLine);
                    mapping[key] = ReadJsonValue(ref reader, childPath, level + 1, state, lines);
                }

                return mapping;
            case JsonTokenType.StartArray:
                var list = new JsonArray();
                while (!state.Stopped && reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    list.Add(ReadJsonValue(ref reader, Item(path, list.Count), level + 1, state, lines));
                }

                return list;
            case JsonTokenType.String:
                return JsonValue.Create(reader.GetString());
            case JsonTokenType.Number:
                // Keep the number's own digits: a double would turn 12345678901234567890 into 1.2345678901234567E+19.
                return JsonValue.Create(JsonElement.ParseValue(ref reader));
            case JsonTokenType.True:
                return JsonValue.Create(true);
            case JsonTokenType.False:
                return JsonValue.Create(false);
            default:
                return null;
        }
    }

    private static TemplateFinding Duplicate(string path, string key, int line) => new(
        Template,
        Child(path, key),
        $"duplicate key '{key}'",
        "A key may appear once in a mapping; merge the two entries or rename one.",
        line);

    private static JsonNode? ReadYaml(string text, List<TemplateFinding> errors, Dictionary<string, int> lines)
    {
        const string SyntaxFix = "Fix the YAML at this line (check indentation, colons, quotes and brackets).";
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(text));
        try
        {
            // The representation model recurses once per level, so deep nesting would overflow the stack, which no
            // catch survives; the parser itself streams, so a first pass measures the depth safely.
            if (DocumentText.FirstTooDeep(parser, MaxDepth) is { } tooDeep)
            {
                errors.Add(TooDeep(DocumentText.LineOf(tooDeep)));
                return null;
            }

            parser = new Parser(new StringReader(text));
            stream.Load(parser);
        }
        catch (YamlException ex) when (ex.Message.StartsWith("Duplicate key ", StringComparison.Ordinal))
        {
            // YamlMappingNode throws this while loading, so only the first duplicate can be reported.
            var key = ex.Message["Duplicate key ".Length..];
            errors.Add(new TemplateFinding(Template, string.Empty, $"duplicate key '{key}'", "A key may appear once in a mapping; merge the two entries or rename one.", DocumentText.LineOf(ex.Start)));
            return null;
        }
        catch (YamlException ex)
        {
            errors.Add(new TemplateFinding(Template, string.Empty, $"invalid YAML: {DocumentText.Describe(ex)}", SyntaxFix, DocumentText.LineOf(ex.Start)));
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // For some malformed input YamlDotNet throws these instead of a YamlException: the scanner for a flow
            // sequence left open (aaubry/YamlDotNet#541), the loader for a line starting with ':'. The last event
            // parsed, such as that '[', is the best line there is.
            var line = parser.Current is { } current ? DocumentText.LineOf(current.Start) : 1;
            errors.Add(new TemplateFinding(Template, string.Empty, "invalid YAML: the parser could not continue after this line; look for an unclosed '[', '{' or quote, or a stray ':'", SyntaxFix, line));
            return null;
        }

        if (stream.Documents.Count == 0)
        {
            errors.Add(Empty());
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            errors.Add(new TemplateFinding(
                Template,
                string.Empty,
                $"the file holds {stream.Documents.Count.ToString(CultureInfo.InvariantCulture)} YAML documents",
                "Keep one template per file: remove the '---' separators and what follows.",
                DocumentText.LineOf(stream.Documents[1].RootNode.Start)));
            return null;
        }

        var converter = new YamlConverter(errors, lines);
        var root = converter.Convert(stream.Documents[0].RootNode, string.Empty, 1);
        if (converter.OverflowLine is { } overflowLine)
        {
            errors.Add(new TemplateFinding(
                Template,
                string.Empty,
                $"the template expands to more than {MaxNodes.ToString(CultureInfo.InvariantCulture)} values or nests deeper than {MaxDepth.ToString(CultureInfo.InvariantCulture)} levels",
                "Write the template without recursive or repeated aliases (*name) and with fewer levels.",
                overflowLine));
            return null;
        }

        return root;
    }

    private static TemplateFinding TooDeep(int line) => new(
        Template,
        string.Empty,
        $"the template nests deeper than {MaxDepth.ToString(CultureInfo.InvariantCulture)} levels",
        "A template is a few levels deep; look for runaway '[' or '{'.",
        line);

    /// <summary>Turns the YAML representation into JSON nodes, counting values and levels as it goes.</summary>
    private sealed class YamlConverter(List<TemplateFinding> errors, Dictionary<string, int> lines)
    {
        private const string CoreTag = "tag:yaml.org,2002:";
        private int count;

        /// <summary>Where the tree first went past <see cref="MaxNodes"/> or <see cref="MaxDepth"/>, if it did.</summary>
        public int? OverflowLine { get; private set; }

        /// <param name="depth">The level of a mapping or list made at this node; the top is 1.</param>
        public JsonNode? Convert(YamlNode node, string path, int depth)
        {
            var line = DocumentText.LineOf(node.Start);
            if (OverflowLine is not null)
            {
                return null;
            }

            if (++count > MaxNodes || (depth > MaxDepth && node is not YamlScalarNode))
            {
                OverflowLine = line;
                return null;
            }

            lines.TryAdd(path, line);
            var tag = node.Tag.IsEmpty ? null : node.Tag.Value;
            if (tag is not null && tag.StartsWith('!') && !node.Tag.IsNonSpecific)
            {
                return ShortForm(node, tag, path, depth, line);
            }

            return Untagged(node, tag, path, depth, line);
        }

        private JsonObject? ShortForm(YamlNode node, string tag, string path, int depth, int line)
        {
            if (!ShortForms.TryGetValue(tag, out var function))
            {
                var suggestion = NameSuggestion.Closest(tag, ShortForms.Keys);
                var fix = suggestion is null
                    ? $"Use a CloudFormation function tag ({string.Join(", ", ShortForms.Keys)}) or remove the tag."
                    : $"Did you mean '{suggestion}'?";
                errors.Add(new TemplateFinding(Template, path, $"unknown tag '{tag}'", fix, line));
                return null;
            }

            if (depth > MaxDepth)
            {
                OverflowLine = line;
                return null;
            }

            var argumentPath = Child(path, function);
            lines.TryAdd(argumentPath, line);
            JsonNode? argument;
            switch (function, node)
            {
                case ("Ref" or "Condition", not YamlScalarNode):
                    errors.Add(new TemplateFinding(Template, path, $"{tag} takes one name, not {(node is YamlSequenceNode ? "a list" : "a mapping")}", $"Write {tag} LogicalName.", line));
                    return null;
                case ("Fn::GetAtt", YamlScalarNode scalar):
                    // "!GetAtt Db.Endpoint.Address" names the attribute Endpoint.Address: split at the first dot only.
                    var text = scalar.Value ?? string.Empty;
                    var dot = text.IndexOf('.', StringComparison.Ordinal);
                    if (dot <= 0 || dot == text.Length - 1)
                    {
                        errors.Add(new TemplateFinding(Template, path, $"!GetAtt '{text}' does not name a resource and an attribute", "Write !GetAtt LogicalName.AttributeName, or !GetAtt [LogicalName, AttributeName].", line));
                        return null;
                    }

                    argument = new JsonArray(JsonValue.Create(text[..dot]), JsonValue.Create(text[(dot + 1)..]));
                    break;
                case (_, YamlScalarNode scalar):
                    // A tagged scalar is text whatever it looks like ("!Base64 1" encodes the character '1').
                    argument = JsonValue.Create(scalar.Value ?? string.Empty);
                    break;
                default:
                    argument = Untagged(node, null, argumentPath, depth + 1, line);
                    break;
            }

            return new JsonObject { [function] = argument };
        }

        private JsonNode? Untagged(YamlNode node, string? tag, string path, int depth, int line)
        {
            switch (node)
            {
                case YamlMappingNode mapping:
                    return Mapping(mapping, path, depth);
                case YamlSequenceNode sequence:
                    var list = new JsonArray();
                    foreach (var item in sequence.Children)
                    {
                        list.Add(Convert(item, Item(path, list.Count), depth + 1));
                    }

                    return list;
                case YamlScalarNode scalar:
                    return Scalar(scalar, tag, path, line);
                default:
                    errors.Add(new TemplateFinding(Template, path, "an alias that names no anchor", "Define the &anchor before using *anchor.", line));
                    return null;
            }
        }

        private JsonObject Mapping(YamlMappingNode node, string path, int depth)
        {
            var mapping = new JsonObject();
            foreach (var (keyNode, valueNode) in node.Children)
            {
                var keyLine = DocumentText.LineOf(keyNode.Start);
                if (keyNode is not YamlScalarNode keyScalar
                    || !(keyScalar.Tag.IsEmpty || keyScalar.Tag.IsNonSpecific || keyScalar.Tag.Value == CoreTag + "str"))
                {
                    var what = keyNode is YamlScalarNode ? $"a value tagged {keyNode.Tag.Value}" : keyNode is YamlSequenceNode ? "a list" : "a mapping";
                    errors.Add(new TemplateFinding(Template, path, $"a key is {what}, but keys must be names", "Write the key as plain text.", keyLine));
                    continue;
                }

                var key = keyScalar.Value ?? string.Empty;
                if (mapping.ContainsKey(key))
                {
                    // YamlDotNet already rejects equal nodes; this catches keys equal only as text ("a" and !!str a).
                    errors.Add(Duplicate(path, key, keyLine));
                    continue;
                }

                var childPath = Child(path, key);
                lines.TryAdd(childPath, keyLine);
                mapping[key] = Convert(valueNode, childPath, depth + 1);
            }

            return mapping;
        }

        private JsonNode? Scalar(YamlScalarNode scalar, string? tag, string path, int line)
        {
            var text = scalar.Value ?? string.Empty;
            if (tag is null)
            {
                return scalar.Style == ScalarStyle.Plain ? YamlCoreSchema.Resolve(text) : JsonValue.Create(text);
            }

            if (tag is "!" or CoreTag + "str")
            {
                return JsonValue.Create(text);
            }

            // !!int "8" and the like: the tag asks for that type, so the text must be one.
            var resolved = YamlCoreSchema.Resolve(text);
            var kind = resolved is JsonValue value ? value.GetValueKind() : JsonValueKind.Null;
            var fits = tag switch
            {
                CoreTag + "null" => resolved is null,
                CoreTag + "bool" => kind is JsonValueKind.True or JsonValueKind.False,
                CoreTag + "int" => kind == JsonValueKind.Number && !text.Contains('.', StringComparison.Ordinal) && !text.Contains('e', StringComparison.OrdinalIgnoreCase),
                CoreTag + "float" => kind == JsonValueKind.Number,
                _ => false,
            };
            if (!fits)
            {
                errors.Add(new TemplateFinding(Template, path, $"'{text}' cannot be read as {tag.Replace(CoreTag, "!!", StringComparison.Ordinal)}", "Remove the tag or change the value.", line));
                return null;
            }

            return resolved;
        }
    }

    /// <summary>What reading JSON carries down the recursion.</summary>
    private sealed class JsonState(LineIndex lines, List<TemplateFinding> errors)
    {
        public LineIndex Lines { get; } = lines;

        public List<TemplateFinding> Errors { get; } = errors;

        /// <summary>Set when the text nests too deep: reading stops there.</summary>
        public bool Stopped { get; set; }
    }
}
