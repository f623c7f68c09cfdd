using System.Globalization;
using System.Net;

namespace EgressLab.LoadTests.Bench;

/// <summary>Reads how many bytes the proxy instance has allocated, from the runtime's <c>dotnet_gc_heap_total_allocated_bytes_total</c> on its <c>/metrics</c>.</summary>
internal static class ProxyAllocations
{
    public const string MetricName = "dotnet_gc_heap_total_allocated_bytes_total";

    private static readonly HttpClient Client = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The counter's value, or null when the proxy did not answer or the metric is missing.</summary>
    public static async Task<double?> ReadAsync(int adminPort, CancellationToken cancellationToken)
    {
        try
        {
            var text = await Client.GetStringAsync(new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{IPAddress.Loopback}:{adminPort}/metrics")), cancellationToken)
                .ConfigureAwait(false);
            return Parse(text);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>The value of the unlabelled sample of <see cref="MetricName"/> in Prometheus text, or null.</summary>
    public static double? Parse(string exposition)
    {
        ArgumentNullException.ThrowIfNull(exposition);
        foreach (var line in exposition.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // The exporter writes an unlabelled sample with empty braces; the text format allows both.
            if (fields.Length >= 2 && (fields[0] == MetricName || fields[0] == MetricName + "{}")
                && double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>Bytes per request between two readings; null when either is missing or nothing was served.</summary>
    public static double? PerRequest(double? before, double? after, long requests) =>
        before is { } b && after is { } a && requests > 0 && a >= b ? (a - b) / requests : null;
}
