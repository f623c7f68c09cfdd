using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace EgressLab.Provisioner.Documents;

/// <summary>
/// What the topology and template readers share about YAML and JSON text: a depth check that runs before
/// YamlDotNet's recursive loader can overflow the stack, lines for error messages, and parser messages without
/// their position (the line is reported on its own).
/// </summary>
internal static class DocumentText
{
    /// <summary>Reads every event; returns where nesting first goes past <paramref name="maxDepth"/>, or null.</summary>
    public static Mark? FirstTooDeep(Parser parser, int maxDepth)
    {
        var depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case MappingStart or SequenceStart:
                    if (++depth > maxDepth)
                    {
                        return parser.Current.Start;
                    }

                    break;
                case MappingEnd or SequenceEnd:
                    depth--;
                    break;
            }
        }

        return null;
    }

    public static int LineOf(Mark mark) => (int)Math.Clamp(mark.Line, 1, int.MaxValue);

    public static string Describe(YamlException ex)
    {
        // YamlException prefixes its message with "(Line: 3, Col: 5, Idx: 40) - (Line: ...): "; the line is reported separately.
        var message = ex.InnerException is YamlException inner ? inner.Message : ex.Message;
        var separator = message.IndexOf("): ", StringComparison.Ordinal);
        if (message.StartsWith("(Line:", StringComparison.Ordinal) && separator >= 0)
        {
            message = message[(separator + 3)..];
        }

        return message.Trim().TrimEnd('.');
    }

    public static string Describe(JsonException ex)
    {
        // The reader appends " LineNumber: 3 | BytePositionInLine: 4."; the line is reported separately.
        var message = ex.Message;
        var position = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (position >= 0)
        {
            message = message[..position];
        }

        return message.Trim().TrimEnd('.');
    }
}

/// <summary>Maps a byte offset in a UTF-8 document to its 1-based line.</summary>
internal sealed class LineIndex
{
    private readonly List<long> _starts = [0];

    public LineIndex(byte[] bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                _starts.Add(i + 1);
            }
        }
    }

    public int LineOf(long offset)
    {
        var index = _starts.BinarySearch(offset);
        return (index >= 0 ? index : ~index - 1) + 1;
    }
}
