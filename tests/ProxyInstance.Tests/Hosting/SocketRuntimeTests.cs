using EgressLab.ProxyInstance.Hosting;
using EgressLab.ProxyInstance.Tests.Forwarding;
using EgressLab.ProxyInstance.Tests.TestHost;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EgressLab.ProxyInstance.Tests.Hosting;

public sealed class SocketRuntimeTests
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

    [Theory]
    [InlineData("1", null, 1)]
    [InlineData("3", null, 3)]
    [InlineData("1", "2", 2)] // a value already in the environment wins
    public async Task Run_SocketThreads_StartsThatManySocketThreads(string setting, string? variable, int expected)
    {
        var port = PlainHttpTests.UnusedPort();
        var environment = new Dictionary<string, string>
        {
            ["Proxy__Listen__0"] = $"127.0.0.1:{port}",
            ["Proxy__AdminListen"] = "",
            ["Proxy__SocketThreads"] = setting,
        };
        if (variable is not null)
        {
            environment[SocketRuntime.ThreadCountVariable] = variable;
        }

        await using var process = ProxyProcess.Start([], environment);
        await ProgramTests.WaitForPortAsync(port, process);

        // The runtime starts all of its socket threads together, with the first socket; the listener opened it.
        Assert.Equal(expected, ThreadNames(process.Id).Count(name => name == ".NET Sockets"));
    }

    private static List<string> ThreadNames(int pid) =>
        Directory.GetDirectories($"/proc/{pid}/task").Select(task => File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n')).ToList();
}
