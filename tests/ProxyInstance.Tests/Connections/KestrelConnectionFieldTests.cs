using System.Net;
using EgressLab.ProxyInstance.Tests.TestHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EgressLab.ProxyInstance.Tests.Connections;

/// <summary>
/// The Kestrel behaviour that <c>RequestHeadRecorder</c> exists for (docs/decisions/0002): a bare Kestrel, without the
/// proxy's wrappers, hands the application a Connection field rewritten to a bare <c>keep-alive</c> or <c>close</c>,
/// so the names a client nominated next to it are lost. If a Kestrel upgrade stops doing this, this test fails and
/// the recorder can go.
/// </summary>
public sealed class KestrelConnectionFieldTests
{
    [Theory]
    [InlineData("keep-alive, X-Private-Hop", "keep-alive")]
    [InlineData("close, X-Private-Hop", "close")]
    [InlineData("X-Private-Hop, keep-alive", "keep-alive")]
    public async Task BareKestrel_ConnectionFieldWithKeepAliveOrClose_LosesTheOtherNames(string sent, string seen)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.Run(context => context.Response.WriteAsync($"[{context.Request.Headers.Connection}]"));
        await app.StartAsync(TestContext.Current.CancellationToken);
        var port = new Uri(app.Urls.First()).Port;

        await using var raw = await RawClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await raw.SendAsync($"GET /x HTTP/1.1\r\nHost: x\r\nConnection: {sent}\r\nX-Private-Hop: 1\r\n\r\n");
        var head = await raw.ReadHeadAsync();

        Assert.Equal($"[{seen}]", await raw.ReadBodyAsync(head));
        await app.StopAsync(TestContext.Current.CancellationToken);
    }
}
