using System.Text;
using EgressLab.ProxyInstance.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace EgressLab.ProxyInstance.Tests.Metrics;

/// <summary>
/// The proxy's metrics as the application registers them (<see cref="ProxyMetrics"/>, the exporter and its endpoint), in a
/// service provider of their own so that tests running in parallel do not see each other's measurements; scraped
/// through the endpoint without a server.
/// </summary>
internal sealed class MetricsHarness : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly PrometheusEndpoint _endpoint;

    public MetricsHarness()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        PrometheusEndpoint.Register(services);
        services.AddSingleton<ProxyMetrics>();
        _services = services.BuildServiceProvider();
        _endpoint = _services.GetRequiredService<PrometheusEndpoint>();
        Metrics = _services.GetRequiredService<ProxyMetrics>();
    }

    public ProxyMetrics Metrics { get; }

    public IServiceProvider Services => _services;

    /// <summary>What a GET of <c>/metrics</c> answers now.</summary>
    public async Task<string> ScrapeTextAsync()
    {
        var context = new DefaultHttpContext { RequestServices = _services };
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = "/metrics";
        using var body = new MemoryStream();
        context.Response.Body = body;
        await _endpoint.WriteAsync(context);
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        return Encoding.UTF8.GetString(body.ToArray());
    }

    public async Task<PrometheusText> ScrapeAsync() => PrometheusText.Parse(await ScrapeTextAsync());

    public void Dispose() => _services.Dispose();
}
