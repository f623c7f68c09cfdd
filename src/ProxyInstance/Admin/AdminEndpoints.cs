using EgressLab.ProxyInstance.Metrics;

namespace EgressLab.ProxyInstance.Admin;

/// <summary>
/// The admin server, on its own listener apart from the proxy port: liveness, readiness (false while draining,
/// so a load balancer stops sending new clients) and Prometheus metrics.
/// </summary>
internal static class AdminEndpoints
{
    public static async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        var aborted = context.RequestAborted;
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            return;
        }

        response.Headers.CacheControl = "no-store";
        switch (context.Request.Path.Value)
        {
            case "/healthz":
                response.ContentType = "text/plain; charset=utf-8";
                await response.WriteAsync("ok\n", aborted).ConfigureAwait(false);
                break;
            case "/readyz":
                var lifetime = context.RequestServices.GetRequiredService<IHostApplicationLifetime>();
                var draining = lifetime.ApplicationStopping.IsCancellationRequested;
                response.StatusCode = draining ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
                response.ContentType = "text/plain; charset=utf-8";
                await response.WriteAsync(draining ? "draining\n" : "ready\n", aborted).ConfigureAwait(false);
                break;
            case "/metrics":
                await context.RequestServices.GetRequiredService<PrometheusEndpoint>().WriteAsync(context).ConfigureAwait(false);
                break;
            default:
                response.StatusCode = StatusCodes.Status404NotFound;
                response.ContentType = "text/plain; charset=utf-8";
                await response.WriteAsync("Not found. The admin server answers /healthz, /readyz and /metrics.\n", aborted).ConfigureAwait(false);
                break;
        }
    }
}
