using System.Globalization;
using System.Text.Json;

namespace EgressLab.LoadTests.Bench;

/// <summary>
/// Reads one benchmark's figures from the JSON report BenchmarkDotNet's <c>JsonExporter.Brief</c> writes
/// (<c>*-report-brief.json</c>): the statistics of the measured iterations, in nanoseconds per operation, and the memory
/// diagnoser's allocation per operation.
/// </summary>
internal static class BenchmarkDotNetReport
{
    /// <summary>How the brief JSON report's file name ends.</summary>
    public const string FileSuffix = "-report-brief.json";

    /// <summary>Finds <paramref name="method"/>'s entry in the report and returns its figures.</summary>
    /// <param name="json">The report's text.</param>
    /// <param name="path">Where it was read from, for the error messages and the result.</param>
    /// <param name="method">The benchmark method's name (the report's <c>Method</c>).</param>
    /// <param name="name">What the result calls the figure.</param>
    /// <param name="optimized">Whether the measured code was an optimised build.</param>
    /// <exception cref="InvalidOperationException">
    /// The report is not JSON, has no entry for <paramref name="method"/>, or the entry lacks statistics or memory figures
    /// (BenchmarkDotNet leaves them out when the benchmark failed, or was run without <c>[MemoryDiagnoser]</c>).
    /// </exception>
    public static MicroBenchmarkResult Read(string json, string path, string method, string name, bool optimized)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentException.ThrowIfNullOrEmpty(method);
        try
        {
            using var document = JsonDocument.Parse(json);
            var benchmark = Property(document.RootElement, "Benchmarks", path).EnumerateArray()
                .Where(b => b.TryGetProperty("Method", out var m) && m.ValueKind == JsonValueKind.String && m.GetString() == method)
                .Select(b => (JsonElement?)b)
                .FirstOrDefault()
                ?? throw new InvalidOperationException($"BenchmarkDotNet's report {path} has no benchmark '{method}'; see the log next to its results directory.");
            if (!benchmark.TryGetProperty("Statistics", out var statistics) || statistics.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidOperationException(
                    $"BenchmarkDotNet's report {path} has no statistics for '{method}': the benchmark failed; see the log next to its results directory.");
            }

            var memory = Property(benchmark, "Memory", path);
            if (memory.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidOperationException($"BenchmarkDotNet's report {path} has no memory figures for '{method}'; the benchmark needs [MemoryDiagnoser].");
            }

            var interval = Property(statistics, "ConfidenceInterval", path);
            return new MicroBenchmarkResult(
                name,
                Property(memory, "TotalOperations", path).GetInt64(),
                Property(statistics, "N", path).GetInt32(),
                Number(statistics, "Mean", path),
                Number(statistics, "Median", path),
                Number(statistics, "StandardDeviation", path),
                Number(interval, "Margin", path),
                Number(statistics, "Min", path),
                Number(statistics, "Max", path),
                Number(memory, "BytesAllocatedPerOperation", path),
                optimized,
                path);
        }
        catch (Exception exception) when (exception is JsonException or FormatException)
        {
            throw new InvalidOperationException($"BenchmarkDotNet's report {path} could not be read: {exception.Message}", exception);
        }
    }

    private static JsonElement Property(JsonElement element, string property, string path) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value)
            ? value
            : throw new InvalidOperationException($"BenchmarkDotNet's report {path} lacks '{property}'; is it a {FileSuffix} file of BenchmarkDotNet 0.15?");

    /// <summary>A figure, which BenchmarkDotNet writes as a number, or as a string for NaN (one iteration has no interval).</summary>
    private static double Number(JsonElement element, string property, string path)
    {
        var value = Property(element, property, path);
        return value.ValueKind == JsonValueKind.String
            ? double.Parse(value.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture)
            : value.GetDouble();
    }
}
