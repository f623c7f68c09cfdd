using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// Writes a template as block-style YAML: two-space indents, keys in their order, intrinsic functions in long
/// form (no tags). The same tree always gives the same text, and <see cref="TemplateReader"/> reads it back to an
/// equal tree. Strings are plain only when no YAML reader could take them for anything else, YAML 1.1 readers
/// included (CloudFormation's parser reads <c>yes</c> and <c>0777</c> the 1.1 way).
/// </summary>
internal static partial class TemplateYamlWriter
{
    private const int Indent = 2;

    // YAML 1.2.2 section 7.4: an implicit key is at most 1024 characters long; longer keys are written "? key".
    private const int MaxImplicitKey = 1000;

    /// <summary>Renders the template.</summary>
    /// <exception cref="ArgumentException">
    /// When the tree nests deeper than <see cref="TemplateReader.MaxDepth"/>, or a string holds an unpaired
    /// surrogate (UTF-8, and so YAML, cannot hold one): the text could not be read back.
    /// </exception>
    public static string Write(JsonObject template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var output = new StringBuilder();
        if (template.Count == 0)
        {
            return "{}\n";
        }

        WriteMapping(output, template, 0, 1, firstInline: false);
        return output.ToString();
    }

    /// <param name="column">Where this mapping's keys start.</param>
    /// <param name="depth">This mapping's level; the top is 1.</param>
    /// <param name="firstInline">True when the first key follows a "- " already written.</param>
    private static void WriteMapping(StringBuilder output, JsonObject mapping, int column, int depth, bool firstInline)
    {
        CheckDepth(depth);
        var first = true;
        foreach (var (key, value) in mapping)
        {
            if (!(first && firstInline))
            {
                output.Append(' ', column);
            }

            first = false;
            var rendered = Key(key);
            if (rendered.Length > MaxImplicitKey)
            {
                output.Append("? ").Append(rendered).Append('\n').Append(' ', column).Append(':');
            }
            else
            {
                output.Append(rendered).Append(':');
            }

            WriteValue(output, value, column, depth, afterDash: false);
        }
    }

    private static void WriteSequence(StringBuilder output, JsonArray list, int column, int depth, bool firstInline)
    {
        CheckDepth(depth);
        var first = true;
        foreach (var item in list)
        {
            if (!(first && firstInline))
            {
                output.Append(' ', column);
            }

            first = false;
            output.Append('-');
            WriteValue(output, item, column, depth, afterDash: true);
        }
    }

    /// <summary>Writes what follows "key:" or "-", through the end of its last line.</summary>
    /// <param name="column">The column of the key or the dash.</param>
    private static void WriteValue(StringBuilder output, JsonNode? value, int column, int depth, bool afterDash)
    {
        switch (value)
        {
            case JsonObject { Count: 0 }:
                output.Append(" {}\n");
                break;
            case JsonArray { Count: 0 }:
                output.Append(" []\n");
                break;
            case JsonObject mapping when afterDash:
                output.Append(' ');
                WriteMapping(output, mapping, column + Indent, depth + 1, firstInline: true);
                break;
            case JsonObject mapping:
                output.Append('\n');
                WriteMapping(output, mapping, column + Indent, depth + 1, firstInline: false);
                break;
            case JsonArray list when afterDash:
                output.Append(' ');
                WriteSequence(output, list, column + Indent, depth + 1, firstInline: true);
                break;
            case JsonArray list:
                output.Append('\n');
                WriteSequence(output, list, column + Indent, depth + 1, firstInline: false);
                break;
            case JsonValue scalar when scalar.GetValueKind() == JsonValueKind.String:
                WriteString(output, JsonText.Of(scalar), column);
                break;
            case JsonValue scalar:
                // JSON numbers are valid YAML 1.2 core numbers as they stand; true, false and null likewise.
                output.Append(' ').Append(JsonText.Of(scalar)).Append('\n');
                break;
            default:
                output.Append(" null\n");
                break;
        }
    }

    private static void WriteString(StringBuilder output, string text, int column)
    {
        CheckSurrogates(text);
        if (text.Contains('\n', StringComparison.Ordinal) && CanBeLiteral(text))
        {
            WriteLiteral(output, text, column);
            return;
        }

        output.Append(' ').Append(NeedsQuotes(text) ? Quote(text) : text).Append('\n');
    }

    /// <summary>
    /// A literal block scalar (YAML 1.2.2 section 8.1.2): the lines as they are, indented. The chomping indicator
    /// says how many final line breaks belong to the text; an indentation indicator is needed when the first line
    /// with anything on it starts with a space, which the reader would otherwise take for indentation.
    /// </summary>
    private static void WriteLiteral(StringBuilder output, string text, int column)
    {
        var body = text.TrimEnd('\n');
        var breaks = text.Length - body.Length;
        var lines = body.Split('\n');
        var firstFilled = lines.FirstOrDefault(line => line.Length > 0) ?? string.Empty;
        output.Append(" |");
        if (firstFilled.StartsWith(' '))
        {
            output.Append(Indent.ToString(CultureInfo.InvariantCulture));
        }

        output.Append(breaks switch { 0 => "-", 1 => string.Empty, _ => "+" }).Append('\n');
        foreach (var line in lines)
        {
            if (line.Length > 0)
            {
                output.Append(' ', column + Indent).Append(line);
            }

            output.Append('\n');
        }

        // With "+" the breaks after the last line are kept: the first ends that line, the rest are empty lines.
        output.Append('\n', Math.Max(0, breaks - 1));
    }

    /// <summary>
    /// True when a literal block can hold the text: it must have something besides line breaks (a block of only
    /// empty lines is easy to misread); no line of only spaces may come before the first with text, which YamlDotNet
    /// rejects ("found extra spaces in first line") even with an indentation indicator; and no character a block
    /// scalar cannot carry unescaped: '\r' and the other line breaks YAML 1.1 knows (U+0085, U+2028, U+2029) would
    /// be read as '\n', and control characters are not printable (YAML 1.2.2 section 5.1).
    /// </summary>
    private static bool CanBeLiteral(string text)
    {
        var lines = text.Split('\n');
        var firstText = Array.FindIndex(lines, line => line.AsSpan().TrimStart(' ').Length > 0);
        if (firstText < 0 || lines.Take(firstText).Any(line => line.Length > 0))
        {
            return false;
        }

        foreach (var character in text)
        {
            if (character != '\n' && character != '\t' && NeedsEscape(character))
            {
                return false;
            }
        }

        return true;
    }

    private static string Key(string key)
    {
        CheckSurrogates(key);
        return NeedsQuotes(key) ? Quote(key) : key;
    }

    /// <summary>True when the text must be quoted to be read back as this string, by a YAML 1.2 or 1.1 reader.</summary>
    private static bool NeedsQuotes(string text)
    {
        if (text.Length == 0 || text[0] is ' ' || text[^1] is ' ' or ':')
        {
            return true;
        }

        // Flow and block indicators, comments, anchors, aliases, tags, directives and reserved characters (section 5.3);
        // "..." ends the document when a top-level key starts with it (section 9.1.4).
        if ("-?:,[]{}#&*!|>'\"%@`".Contains(text[0], StringComparison.Ordinal) || text.StartsWith("...", StringComparison.Ordinal))
        {
            return true;
        }

        // " *" is no YAML rule: YamlDotNet fails to see "a *b: c" as a key, and reads the whole line as one scalar.
        if (text.Contains(": ", StringComparison.Ordinal) || text.Contains(" #", StringComparison.Ordinal) || text.Contains(" *", StringComparison.Ordinal)
            || text.Contains('\t', StringComparison.Ordinal))
        {
            return true;
        }

        foreach (var character in text)
        {
            if (NeedsEscape(character) || character == '\n')
            {
                return true;
            }
        }

        return YamlCoreSchema.ResolvesToNonString(text) || Yaml11Scalar().IsMatch(text) || NumberLike().IsMatch(text);
    }

    /// <summary>A JSON-style double-quoted scalar; YAML's double quotes (section 7.3.1) take JSON's escapes.</summary>
    private static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        foreach (var character in text)
        {
            switch (character)
            {
                case '"':
                    quoted.Append("\\\"");
                    break;
                case '\\':
                    quoted.Append("\\\\");
                    break;
                case '\n':
                    quoted.Append("\\n");
                    break;
                case '\r':
                    quoted.Append("\\r");
                    break;
                case '\t':
                    quoted.Append("\\t");
                    break;
                case '\b':
                    quoted.Append("\\b");
                    break;
                case '\f':
                    quoted.Append("\\f");
                    break;
                default:
                    if (NeedsEscape(character))
                    {
                        quoted.Append("\\u").Append(((int)character).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        quoted.Append(character);
                    }

                    break;
            }
        }

        return quoted.Append('"').ToString();
    }

    /// <summary>
    /// Characters to write as escapes: C0 and C1 controls and DEL (not printable), the YAML 1.1 line breaks U+0085,
    /// U+2028 and U+2029, the byte order mark, and the non-characters U+FFFE and U+FFFF.
    /// </summary>
    private static bool NeedsEscape(char character) =>
        character < ' ' || character is >= '\u007F' and <= '\u009F' or '\u2028' or '\u2029' or '\uFEFF' or '\uFFFE' or '\uFFFF';

    private static void CheckSurrogates(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                throw new ArgumentException($"A string holds an unpaired surrogate (U+{((int)text[i]).ToString("X4", CultureInfo.InvariantCulture)}), which YAML cannot hold.");
            }
        }
    }

    private static void CheckDepth(int depth)
    {
        if (depth > TemplateReader.MaxDepth)
        {
            throw new ArgumentException($"The template nests deeper than {TemplateReader.MaxDepth.ToString(CultureInfo.InvariantCulture)} levels, which TemplateReader would refuse.");
        }
    }

    /// <summary>Words YAML 1.1 reads as booleans or null, and its merge ("&lt;&lt;") and value ("=") keys.</summary>
    [GeneratedRegex(@"^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE|null|Null|NULL|~|<<|=)$", RegexOptions.CultureInvariant)]
    private static partial Regex Yaml11Scalar();

    /// <summary>
    /// Text a YAML 1.1 reader may take for a number or a timestamp (0777, 1_000, 1:30, 0b101, 2010-09-09): it starts
    /// like a number and holds nothing but digits, letters and <c>_ . : + -</c>. Quoting a few strings that need no
    /// quotes is the price of not missing one.
    /// </summary>
    [GeneratedRegex(@"^[-+]?\.?[0-9][0-9A-Za-z_.:+\- ]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberLike();
}
