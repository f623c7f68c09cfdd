using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

using EgressLab.Provisioner.Documents;

namespace EgressLab.Provisioner.Topology;

/// <summary>Reads YAML into the common node tree, typing plain scalars by the YAML 1.2 core schema.</summary>
internal static class TopologyYamlReader
{
    // Aliases share nodes, so a small file can expand to a huge tree ("billion laughs"); a topology is a few hundred nodes.
    private const int MaxNodes = 100_000;
    private const int MaxDepth = 64;

    public static TopologyNode? Read(string text, string source, List<TopologyError> errors)
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
                errors.Add(new TopologyError(
                    source,
                    DocumentText.LineOf(tooDeep),
                    "document",
                    $"the document nests deeper than {MaxDepth.ToString(CultureInfo.InvariantCulture)} levels",
                    "A topology is a few levels deep; look for runaway '[' or '{'."));
                return null;
            }

            parser = new Parser(new StringReader(text));
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            errors.Add(new TopologyError(source, DocumentText.LineOf(ex.Start), "syntax", $"invalid YAML: {DocumentText.Describe(ex)}", SyntaxFix));
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // For some malformed input YamlDotNet throws these instead of a YamlException: the scanner for a flow
            // sequence left open (aaubry/YamlDotNet#541), the loader for a line starting with ':'. The last event
            // parsed, such as that '[', is the best line there is.
            var line = parser.Current is { } current ? DocumentText.LineOf(current.Start) : 1;
            errors.Add(new TopologyError(source, line, "syntax", "invalid YAML: the parser could not continue after this line; look for an unclosed '[', '{' or quote, or a stray ':'", SyntaxFix));
            return null;
        }

        if (stream.Documents.Count == 0)
        {
            errors.Add(new TopologyError(source, null, "document", "the file is empty", "Write the topology's fields: name, vpc, subnets, routeTables, instances and internet."));
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            errors.Add(new TopologyError(
                source,
                DocumentText.LineOf(stream.Documents[1].RootNode.Start),
                "document",
                $"the file holds {stream.Documents.Count.ToString(CultureInfo.InvariantCulture)} YAML documents",
                "Keep one topology per file: remove the '---' separators and what follows."));
            return null;
        }

        var converter = new Converter();
        var root = converter.Convert(stream.Documents[0].RootNode, 0);
        if (converter.Overflow)
        {
            errors.Add(new TopologyError(
                source,
                null,
                "document",
                $"the document expands to more than {MaxNodes.ToString(CultureInfo.InvariantCulture)} values or nests deeper than {MaxDepth.ToString(CultureInfo.InvariantCulture)} levels",
                "Write the topology without recursive or repeated aliases."));
            return null;
        }

        return root;
    }

    private sealed class Converter
    {
        private int count;

        public bool Overflow { get; private set; }

        public TopologyNode Convert(YamlNode node, int depth)
        {
            var line = DocumentText.LineOf(node.Start);
            if (++count > MaxNodes || depth > MaxDepth)
            {
                Overflow = true;
                return new TopologyScalar(line, ScalarKind.Null, string.Empty);
            }

            switch (node)
            {
                case YamlMappingNode mapping:
                    var fields = new List<TopologyField>(mapping.Children.Count);
                    foreach (var (key, value) in mapping.Children)
                    {
                        // A non-scalar key ("? [a, b]") cannot name a field; its text makes it an unknown field.
                        var name = key is YamlScalarNode scalarKey ? scalarKey.Value ?? string.Empty : key.ToString();
                        fields.Add(new TopologyField(name, DocumentText.LineOf(key.Start), Convert(value, depth + 1)));
                    }

                    return new TopologyMapping(line, fields);
                case YamlSequenceNode sequence:
                    var items = new List<TopologyNode>(sequence.Children.Count);
                    foreach (var item in sequence.Children)
                    {
                        items.Add(Convert(item, depth + 1));
                    }

                    return new TopologySequence(line, items);
                case YamlScalarNode scalar:
                    return Scalar(scalar, line);
                default:
                    return new TopologyScalar(line, ScalarKind.String, node.ToString());
            }
        }

        private static TopologyScalar Scalar(YamlScalarNode scalar, int line)
        {
            var text = scalar.Value ?? string.Empty;
            if (scalar.Style != ScalarStyle.Plain || (!scalar.Tag.IsEmpty && scalar.Tag.Value == "tag:yaml.org,2002:str") || (!scalar.Tag.IsEmpty && scalar.Tag.IsNonSpecific))
            {
                return new TopologyScalar(line, ScalarKind.String, text);
            }

            return new TopologyScalar(line, Resolve(text), text);
        }

        /// <summary>The YAML 1.2 core schema (section 10.3.2): so "yes" is a string and 22 is a number, as in JSON.</summary>
        private static ScalarKind Resolve(string text) => text switch
        {
            "" or "~" or "null" or "Null" or "NULL" => ScalarKind.Null,
            "true" or "True" or "TRUE" or "false" or "False" or "FALSE" => ScalarKind.Boolean,
            _ when IsNumber(text) => ScalarKind.Number,
            _ => ScalarKind.String,
        };

        private static bool IsNumber(string text)
        {
            if (text is ".inf" or "-.inf" or "+.inf" or ".nan" or ".Inf" or ".NaN")
            {
                return true;
            }

            if (text.StartsWith("0x", StringComparison.Ordinal) || text.StartsWith("0o", StringComparison.Ordinal))
            {
                return text.Length > 2 && text[2..].All(char.IsAsciiHexDigit);
            }

            var body = text.TrimStart('-', '+');
            if (body.Length == 0 || body.Length < text.Length - 1)
            {
                return false;
            }

            return double.TryParse(body, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out _)
                && (char.IsAsciiDigit(body[0]) || body[0] == '.');
        }
    }
}
