using System.Text;
using System.Text.Json;

using EgressLab.Provisioner.Documents;

namespace EgressLab.Provisioner.Topology;

/// <summary>
/// Reads JSON into the common node tree. It uses <see cref="Utf8JsonReader"/> rather than
/// <see cref="JsonDocument"/> because only the reader exposes token positions, which become the line numbers.
/// </summary>
internal static class TopologyJsonReader
{
    private static readonly JsonReaderOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 64,
    };

    public static TopologyNode? Read(string text, string source, List<TopologyError> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add(new TopologyError(source, null, "document", "the file is empty", "Write the topology as one JSON object with name, vpc, subnets, routeTables, instances and internet."));
            return null;
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        var lines = new LineIndex(bytes);
        var reader = new Utf8JsonReader(bytes, Options);
        try
        {
            reader.Read();
            var root = ReadValue(ref reader, lines);

            // Anything but whitespace and comments after the root value makes Read throw.
            reader.Read();
            return root;
        }
        catch (JsonException ex)
        {
            var line = ex.LineNumber is { } zeroBased ? (int?)(zeroBased + 1) : null;
            errors.Add(new TopologyError(source, line, "syntax", $"invalid JSON: {DocumentText.Describe(ex)}", "Fix the JSON at this line (check commas, brackets and quotes)."));
            return null;
        }
    }

    private static TopologyNode ReadValue(ref Utf8JsonReader reader, LineIndex lines)
    {
        var line = lines.LineOf(reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var fields = new List<TopologyField>();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.GetString() ?? string.Empty;
                    var nameLine = lines.LineOf(reader.TokenStartIndex);
                    reader.Read();
                    fields.Add(new TopologyField(name, nameLine, ReadValue(ref reader, lines)));
                }

                return new TopologyMapping(line, fields);
            case JsonTokenType.StartArray:
                var items = new List<TopologyNode>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(ReadValue(ref reader, lines));
                }

                return new TopologySequence(line, items);
            case JsonTokenType.String:
                return new TopologyScalar(line, ScalarKind.String, reader.GetString() ?? string.Empty);
            case JsonTokenType.Number:
                return new TopologyScalar(line, ScalarKind.Number, Encoding.UTF8.GetString(reader.ValueSpan));
            case JsonTokenType.True:
                return new TopologyScalar(line, ScalarKind.Boolean, "true");
            case JsonTokenType.False:
                return new TopologyScalar(line, ScalarKind.Boolean, "false");
            default:
                return new TopologyScalar(line, ScalarKind.Null, string.Empty);
        }
    }
}
