using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// The resource schemas the validator knows, by CloudFormation type name. <see cref="Embedded"/> holds the ones
/// shipped inside this assembly (see <c>CloudFormation/Schemas/README.md</c>); they are parsed on first use, once.
/// </summary>
internal sealed class ResourceSchemaSet
{
    /// <summary>The manifest resource name of an embedded schema is this prefix and its file name.</summary>
    public const string ResourcePrefix = "EgressLab.Provisioner.CloudFormation.Schemas.";

    // A pattern that backtracks badly on hostile input must not stall validation; 200 ms is ages for a property value.
    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(200);

    private readonly Lazy<Catalog> catalog;
    private readonly ConcurrentDictionary<string, Regex?> patterns = new(StringComparer.Ordinal);

    private ResourceSchemaSet(Func<IEnumerable<(string Source, string Json)>> documents) =>
        catalog = new Lazy<Catalog>(() => Catalog.Load(documents()), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The schemas embedded in this assembly.</summary>
    public static ResourceSchemaSet Embedded { get; } = new(ReadEmbedded);

    /// <summary>The known type names, in ordinal order.</summary>
    public IReadOnlyList<string> TypeNames => catalog.Value.TypeNames;

    /// <summary>A set made of the given schema documents (each a JSON object with a <c>typeName</c>), for tests and tools.</summary>
    /// <exception cref="InvalidOperationException">When a document is not a schema or two share a type name.</exception>
    public static ResourceSchemaSet FromJson(IEnumerable<string> schemas)
    {
        ArgumentNullException.ThrowIfNull(schemas);
        var documents = schemas.Select((json, i) => ($"schema #{i.ToString(System.Globalization.CultureInfo.InvariantCulture)}", json)).ToList();
        return new ResourceSchemaSet(() => documents);
    }

    /// <summary>The names of the embedded schema resources, in ordinal order.</summary>
    public static IReadOnlyList<string> EmbeddedResourceNames() =>
        [.. typeof(ResourceSchemaSet).Assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];

    public bool TryGet(string typeName, [NotNullWhen(true)] out ResourceSchema? schema) =>
        catalog.Value.ByType.TryGetValue(typeName, out schema);

    /// <summary>
    /// The compiled form of a schema's <c>pattern</c>, or null when .NET cannot compile it; the caller then skips the
    /// check rather than failing the template for a defect of the schema.
    /// </summary>
    public Regex? Pattern(string pattern) => patterns.GetOrAdd(pattern, Compile);

    private static Regex? Compile(string pattern)
    {
        // The non-backtracking engine matches in linear time, but rejects lookarounds and backreferences with
        // NotSupportedException (one schema uses "(?!aws|ssm)"); those fall back to the backtracking engine with a timeout.
        try
        {
            return new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, PatternTimeout);
        }
        catch (NotSupportedException)
        {
            return CompileBacktracking(pattern);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static Regex? CompileBacktracking(string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, PatternTimeout);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static IEnumerable<(string Source, string Json)> ReadEmbedded()
    {
        var assembly = typeof(ResourceSchemaSet).Assembly;
        foreach (var name in EmbeddedResourceNames())
        {
            yield return (name, ReadResource(assembly, name));
        }
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded schema '{name}' is listed but cannot be opened.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private sealed class Catalog
    {
        private Catalog(Dictionary<string, ResourceSchema> byType)
        {
            ByType = byType;
            TypeNames = [.. byType.Keys.Order(StringComparer.Ordinal)];
        }

        public Dictionary<string, ResourceSchema> ByType { get; }

        public IReadOnlyList<string> TypeNames { get; }

        public static Catalog Load(IEnumerable<(string Source, string Json)> documents)
        {
            // The schemas are data we ship, so a broken one is a build defect: fail loudly rather than validate less.
            var byType = new Dictionary<string, ResourceSchema>(StringComparer.Ordinal);
            foreach (var (source, json) in documents)
            {
                JsonElement root;
                try
                {
                    using var document = JsonDocument.Parse(json);
                    root = document.RootElement.Clone();
                }
                catch (JsonException ex)
                {
                    throw new InvalidOperationException($"The resource schema {source} is not valid JSON: {ex.Message}", ex);
                }

                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("typeName", out var typeName) || typeName.ValueKind != JsonValueKind.String)
                {
                    throw new InvalidOperationException($"The resource schema {source} has no string 'typeName'.");
                }

                var name = typeName.GetString()!;
                if (!byType.TryAdd(name, new ResourceSchema(name, source, root)))
                {
                    throw new InvalidOperationException($"The resource schemas {byType[name].Source} and {source} both describe {name}.");
                }
            }

            return new Catalog(byType);
        }
    }
}
