using System.Diagnostics.CodeAnalysis;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EgressLab.LoadTests.Results;

/// <summary>
/// The one JSON form of results files: what <c>run --json</c> and <c>compare</c> write and <c>report</c> reads.
/// Web defaults (camelCase names), indented, enums as their names.
/// </summary>
internal static class ResultsJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options) + "\n";

    /// <summary>Reads a results file, or says what is wrong with it and how to fix it.</summary>
    /// <param name="what">What the file should hold, for messages: "the results.json that compare writes".</param>
    public static bool TryReadFile<T>(string path, string what, [NotNullWhen(true)] out T? value, out string problem)
        where T : class
    {
        value = null;
        problem = string.Empty;
        if (Directory.Exists(path))
        {
            problem = $"{path} is a directory; pass {what} (for example {Path.Combine(path, "results.json")}).";
            return false;
        }

        if (!File.Exists(path))
        {
            problem = $"{path} does not exist; pass {what}.";
            return false;
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot read {path}: {ex.Message}";
            return false;
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            problem = $"{path} is empty; pass {what}.";
            return false;
        }

        // Syntax first, so a broken file is told apart from JSON of the wrong shape.
        try
        {
            using var document = JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            problem = $"{path} is not valid JSON ({Position(ex)}): {Reason(ex)} Fix the file there, or pass {what}.";
            return false;
        }

        try
        {
            value = JsonSerializer.Deserialize<T>(text, Options);
        }
        catch (JsonException ex)
        {
            problem = $"{path} is JSON but not {what}: {Reason(ex)}{(ex.Path is null ? "" : $" (at {ex.Path}, {Position(ex)})")} Fix the file there.";
            return false;
        }

        if (value is null)
        {
            problem = $"{path} holds null; pass {what}.";
            return false;
        }

        return true;
    }

    private static string Position(JsonException ex) =>
        FormattableString.Invariant($"line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}");

    // The reader appends "Path: $ | LineNumber: 0 | ..." with zero-based positions; the message gives them one-based.
    private static string Reason(JsonException ex)
    {
        var message = ex.Message;
        foreach (var marker in new[] { " Path: ", " LineNumber: " })
        {
            var at = message.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                message = message[..at];
            }
        }

        // Advice meant for the author of the types, not for whoever holds the file.
        message = message.Replace(" Consider updating its nullability annotation.", "", StringComparison.Ordinal).Trim();
        return message.EndsWith('.') ? message : message + ".";
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = true,

            // A file missing a field, or holding null where a value belongs, is refused rather than read as zero.
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,

            // Results files are read by people and tools, never embedded in a page: keep "<", "&" and "—" readable.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
