using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using EgressLab.ProxyInstance.Egress;
using Microsoft.Extensions.DependencyInjection;

namespace EgressLab.ProxyInstance.Tests.TestHost;

/// <summary>
/// Test doubles at the two edges of the dialer. The resolver answers from a table and never asks a DNS server;
/// the connector lets only loopback through and records every other destination instead of sending a packet,
/// so that even a broken SSRF guard cannot make a test reach beyond this machine.
/// </summary>
internal sealed class TestNetwork : IHostResolver, ISocketConnector
{
    private readonly ConcurrentDictionary<string, Func<int, IPAddress[]>> _names = new(StringComparer.OrdinalIgnoreCase);

    public ConcurrentDictionary<string, int> Lookups { get; } = new(StringComparer.OrdinalIgnoreCase);
    public ConcurrentQueue<IPEndPoint> Dialled { get; } = new();
    public ConcurrentQueue<IPEndPoint> Refused { get; } = new();

    public TestNetwork Map(string name, params IPAddress[] addresses)
    {
        _names[name] = _ => addresses;
        return this;
    }

    /// <summary>Answers differently on each lookup (the n-th lookup gets <paramref name="answer"/>(n), from 1).</summary>
    public TestNetwork MapChanging(string name, Func<int, IPAddress[]> answer)
    {
        _names[name] = answer;
        return this;
    }

    public void Register(IServiceCollection services)
    {
        services.AddSingleton<IHostResolver>(this);
        services.AddSingleton<ISocketConnector>(this);
    }

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var count = Lookups.AddOrUpdate(host, 1, (_, n) => n + 1);
        return _names.TryGetValue(host.TrimEnd('.'), out var answer)
            ? Task.FromResult(answer(count))
            : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
    }

    public ValueTask ConnectAsync(Socket socket, IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        if (!IPAddress.IsLoopback(address))
        {
            Refused.Enqueue(endPoint);
            throw new SocketException((int)SocketError.NetworkUnreachable);
        }

        Dialled.Enqueue(endPoint);
        return socket.ConnectAsync(endPoint, cancellationToken);
    }
}
