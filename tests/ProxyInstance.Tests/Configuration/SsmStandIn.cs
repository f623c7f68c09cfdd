using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EgressLab.ProxyInstance.Tests.Configuration;

/// <summary>What the stand-in received: the operation, the request body's fields, and the signature header.</summary>
internal sealed record SsmStandInRequest(string? Target, string? ContentType, string? Name, bool? WithDecryption, string? Authorization);

/// <summary>
/// Systems Manager's <c>GetParameter</c>, on 127.0.0.1, speaking the service's JSON 1.1 protocol: the operation in
/// <c>X-Amz-Target</c>, a JSON body, a JSON answer, and errors as <c>{"__type": ..., "message": ...}</c> with a 400.
/// It holds one parameter; a test changes its value and version, or makes every call fail.
/// </summary>
internal sealed class SsmStandIn : IAsyncDisposable
{
    private const string JsonType = "application/x-amz-json-1.1";
    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly ConcurrentQueue<SsmStandInRequest> _requests = new();
    private readonly string _name;
    private string? _value;
    private long _version;
    private string? _errorType;

    private SsmStandIn(WebApplication app, string name)
    {
        _app = app;
        _name = name;
    }

    public Uri Endpoint => new(_app.Urls.First());

    public IReadOnlyCollection<SsmStandInRequest> Requests => _requests;

    public static async Task<SsmStandIn> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var standIn = new SsmStandIn(app, name);
        app.Run(standIn.HandleAsync);
        await app.StartAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30));
        return standIn;
    }

    /// <summary>Stores a new value under the next version, as <c>PutParameter --overwrite</c> does.</summary>
    public long Put(string value)
    {
        lock (_lock)
        {
            _value = value;
            _errorType = null;
            return ++_version;
        }
    }

    /// <summary>Answers every call with this error (<c>ParameterNotFound</c>, <c>ThrottlingException</c>, ...).</summary>
    public void FailWith(string errorType)
    {
        lock (_lock)
        {
            _errorType = errorType;
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var root = body.RootElement;
        var name = root.TryGetProperty("Name", out var n) ? n.GetString() : null;
        bool? decrypt = root.TryGetProperty("WithDecryption", out var d) ? d.GetBoolean() : null;
        var target = context.Request.Headers["X-Amz-Target"].ToString();
        _requests.Enqueue(new SsmStandInRequest(target, context.Request.ContentType, name, decrypt, context.Request.Headers.Authorization.ToString()));

        string? error;
        string? value;
        long version;
        lock (_lock)
        {
            (error, value, version) = (_errorType, _value, _version);
        }

        if (target != "AmazonSSM.GetParameter")
        {
            error = "UnknownOperationException";
        }
        else if (name != _name || value is null)
        {
            error ??= "ParameterNotFound";
        }

        context.Response.ContentType = JsonType;
        if (error is not null)
        {
            context.Response.StatusCode = (int)HttpStatusCode.BadRequest;
            await context.Response.WriteAsync(new JsonObject { ["__type"] = error, ["message"] = $"stand-in: {error}" }.ToJsonString(), context.RequestAborted);
            return;
        }

        var parameter = new JsonObject
        {
            ["ARN"] = $"arn:aws:ssm:eu-west-1:123456789012:parameter{_name}",
            ["DataType"] = "text",
            ["LastModifiedDate"] = 1.7e9 + version,
            ["Name"] = _name,
            ["Type"] = "SecureString",
            ["Value"] = value,
            ["Version"] = version,
        };
        await context.Response.WriteAsync(new JsonObject { ["Parameter"] = parameter }.ToJsonString(), context.RequestAborted);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
