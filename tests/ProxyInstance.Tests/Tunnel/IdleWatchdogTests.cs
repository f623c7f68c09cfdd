using System.IO.Pipelines;
using System.Net.Sockets;
using EgressLab.ProxyInstance.Tunnel;
using Microsoft.Extensions.Time.Testing;

namespace EgressLab.ProxyInstance.Tests.Tunnel;

/// <summary>
/// A tunnel ends after its idle timeout without traffic, counted from its last byte; and a tunnel that ends by
/// itself finishes where its last side closed, without waking a thread-pool thread for its watchdog.
/// </summary>
public sealed class IdleWatchdogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Watchdog_NoActivityForTheTimeout_CallsOnIdleOnce()
    {
        var time = new FakeTimeProvider();
        var idle = 0;
        await using var watchdog = new IdleWatchdog(Timeout, time, _ => idle++, null);

        time.Advance(Timeout - TimeSpan.FromSeconds(1));
        Assert.Equal(0, idle);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, idle);
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(1, idle);
    }

    [Fact]
    public async Task Watchdog_ActivityWithinTheTimeout_CountsTheTimeoutFromTheLastActivity()
    {
        var time = new FakeTimeProvider();
        var idle = 0;
        await using var watchdog = new IdleWatchdog(Timeout, time, _ => idle++, null);

        time.Advance(TimeSpan.FromSeconds(40));
        watchdog.Touch();
        time.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal(0, idle);
        time.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(0, idle);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, idle);
    }

    [Fact]
    public async Task Watchdog_Disposed_CompletesAtOnceAndNeverCallsOnIdle()
    {
        var time = new FakeTimeProvider();
        var idle = 0;
        var watchdog = new IdleWatchdog(Timeout, time, _ => idle++, null);

        var disposing = watchdog.DisposeAsync();
        Assert.True(disposing.IsCompletedSuccessfully, "disposing the watchdog waited although no check was running");
        await disposing;
        time.Advance(Timeout * 2);

        Assert.Equal(0, idle);
        await watchdog.DisposeAsync();
    }

    [Fact]
    public async Task Relay_NoTrafficForTheIdleTimeout_EndsAsIdle()
    {
        var time = new FakeTimeProvider();
        using var upstream = await SocketPair.OpenAsync();
        using var client = await SocketPair.OpenAsync();
        var clientInput = new Pipe();
        var relay = new TunnelRelay(clientInput.Reader, new ClientSink(new SocketConnection(client.Near)), upstream.Near, Timeout, time);
        var running = relay.RunAsync(Token);

        await upstream.Far.SendAsync(new byte[] { 1, 2, 3 }, Token);
        var received = new byte[3];
        Assert.Equal(3, await client.Far.ReceiveAsync(received, Token).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Token));
        time.Advance(Timeout - TimeSpan.FromSeconds(1));
        Assert.False(running.IsCompleted, "the tunnel ended before its idle timeout");
        time.Advance(TimeSpan.FromSeconds(1));
        var result = await running.WaitAsync(TimeSpan.FromSeconds(10), Token);

        Assert.Equal(TunnelEnd.IdleTimeout, result.End);
        Assert.Equal(3, result.BytesDown);
    }

    [Fact]
    public async Task Relay_BothSidesClose_FinishesOnTheThreadThatClosedLast()
    {
        using var upstream = await SocketPair.OpenAsync();
        using var client = await SocketPair.OpenAsync();
        // The client's side is a pipe whose reader continues inline, so completing it runs the relay on this thread.
        var clientInput = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        var relay = new TunnelRelay(clientInput.Reader, new ClientSink(new SocketConnection(client.Near)), upstream.Near, Timeout, TimeProvider.System);
        var running = relay.RunAsync(Token);

        // The destination closes first; the relay passes its FIN on to the client.
        upstream.Far.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await client.Far.ReceiveAsync(new byte[1], Token).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Token));
        // The client saw the FIN as the relay's download side sent it; let that side return before the client closes.
        await Task.Delay(TimeSpan.FromSeconds(1), Token);

        var finishedOn = -1;
        var observed = running.ContinueWith(
            _ => finishedOn = Environment.CurrentManagedThreadId, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var closingThread = Environment.CurrentManagedThreadId;
        clientInput.Writer.Complete();
        var finishedAtOnce = running.IsCompleted;
        await observed.WaitAsync(TimeSpan.FromSeconds(10), Token);

        Assert.Equal(TunnelEnd.Closed, (await running).End);
        Assert.True(finishedAtOnce, "the relay did not finish while the client's close was handled: it waited for another thread");
        Assert.Equal(closingThread, finishedOn);
    }
}
