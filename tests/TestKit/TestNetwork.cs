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
    private readonly ConcurrentDictionary<string, Func<int, Task<IPAddress[]>>> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<int, int> _ports = new();
    private int _lateFailures;

    public ConcurrentDictionary<string, int> Lookups { get; } = new(StringComparer.OrdinalIgnoreCase);
    public ConcurrentQueue<IPEndPoint> Dialled { get; } = new();
    public ConcurrentQueue<IPEndPoint> Refused { get; } = new();

    /// <summary>How many lookups mapped with <see cref="MapHanging"/> and a delay have failed so far.</summary>
    public int LateFailures => Volatile.Read(ref _lateFailures);

    public TestNetwork Map(string name, params IPAddress[] addresses)
    {
        _names[name] = _ => Task.FromResult(addresses);
        return this;
    }

    /// <summary>Answers differently on each lookup (the n-th lookup gets <paramref name="answer"/>(n), from 1).</summary>
    public TestNetwork MapChanging(string name, Func<int, IPAddress[]> answer)
    {
        _names[name] = n => Task.FromResult(answer(n));
        return this;
    }

    /// <summary>The lookup throws <paramref name="error"/> at once, as the system resolver does when a server says no.</summary>
    public TestNetwork MapFailing(string name, SocketError error)
    {
        _names[name] = _ => throw new SocketException((int)error);
        return this;
    }

    /// <summary>
    /// The lookup never answers, or fails with <see cref="SocketError.TryAgain"/> only after <paramref name="failAfter"/>.
    /// Either way it ignores cancellation, as the system resolver does on Linux: a blocking getaddrinfo on a
    /// thread-pool thread cannot be stopped once it has started.
    /// </summary>
    public TestNetwork MapHanging(string name, TimeSpan? failAfter = null)
    {
        _names[name] = failAfter is { } delay
            ? _ => FailLateAsync(delay)
            : _ => new TaskCompletionSource<IPAddress[]>(TaskCreationOptions.RunContinuationsAsynchronously).Task;
        return this;
    }

    /// <summary>Connections to loopback port <paramref name="from"/> reach <paramref name="to"/> instead, e.g. port 80 a test origin.</summary>
    public TestNetwork RedirectPort(int from, int to)
    {
        _ports[from] = to;
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
        // Exact, as a hosts file matches: a resolver asked for "Example.COM." need not know "example.com".
        return _names.TryGetValue(host, out var answer)
            ? answer(count)
            : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
    }

    private async Task<IPAddress[]> FailLateAsync(TimeSpan delay)
    {
        await Task.Delay(delay, CancellationToken.None);
        Interlocked.Increment(ref _lateFailures);
        throw new SocketException((int)SocketError.TryAgain);
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
        return socket.ConnectAsync(_ports.TryGetValue(endPoint.Port, out var port) ? new IPEndPoint(endPoint.Address, port) : endPoint, cancellationToken);
    }
}
