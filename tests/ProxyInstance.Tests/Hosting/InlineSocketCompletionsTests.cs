using EgressLab.ProxyInstance.Tests.TestHost;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EgressLab.ProxyInstance.Tests.Hosting;

public sealed class InlineSocketCompletionsTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Build_InlineSocketCompletions_DecidesKestrelsScheduling(bool inline)
    {
        var config = ProxyServer.Config(ProxyServer.AllowAll(80), customize: proxy => proxy["InlineSocketCompletions"] = inline);
        await using var proxy = await ProxyServer.StartAsync(config, new TestNetwork());

        var sockets = proxy.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;

        Assert.Equal(inline, sockets.UnsafePreferInlineScheduling);
    }

    [Fact]
    public async Task Build_Defaults_RunInline()
    {
        await using var proxy = await ProxyServer.StartAsync(ProxyServer.Config(ProxyServer.AllowAll(80)), new TestNetwork());

        Assert.True(proxy.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
    }
}
