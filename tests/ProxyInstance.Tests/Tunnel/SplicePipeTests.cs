using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using EgressLab.ProxyInstance.Tunnel;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace EgressLab.ProxyInstance.Tests.Tunnel;

/// <summary>
/// splice(2) moves a tunnel's bulk bytes from the destination to the client without copying them through the proxy;
/// whatever the pace of either side, the client must get every byte, in order, and the tunnel's ends must hold.
/// </summary>
public sealed class SplicePipeTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FillAndDrain_MoveTheSourcesBytesToTheDestinationInOrder()
    {
        Requirements.SkipUnless(SplicePipe.IsSupported, "splice(2) is Linux's");
        using var source = await SocketPair.OpenAsync();
        using var destination = await SocketPair.OpenAsync();
        using var pipe = SplicePipe.TryCreate();
        Assert.NotNull(pipe);
        var payload = RandomNumberGenerator.GetBytes(100_000);

        Assert.Equal(-1, pipe.Fill(source.Near));
        await source.Far.SendAsync(payload, Token);
        var received = new MemoryStream();
        while (received.Length < payload.Length)
        {
            await source.Near.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, Token);
            Assert.True(pipe.Fill(source.Near) > 0);
            while (pipe.Pending > 0)
            {
                Assert.True(pipe.Drain(destination.Near) > 0);
            }

            var buffer = new byte[256 * 1024];
            while (received.Length < payload.Length && destination.Far.Available > 0)
            {
                received.Write(buffer, 0, await destination.Far.ReceiveAsync(buffer, Token));
            }
        }

        Assert.Equal(payload, received.ToArray());
        source.Far.Shutdown(SocketShutdown.Send);
        await source.Near.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, Token);
        Assert.Equal(0, pipe.Fill(source.Near));
    }

    [Fact]
    public async Task Drain_DestinationWithoutRoom_LeavesTheBytesToTakeOut()
    {
        Requirements.SkipUnless(SplicePipe.IsSupported, "splice(2) is Linux's");
        using var source = await SocketPair.OpenAsync();
        using var destination = await SocketPair.OpenAsync(sendBuffer: 4096);
        using var pipe = SplicePipe.TryCreate();
        Assert.NotNull(pipe);
        var payload = RandomNumberGenerator.GetBytes(1024 * 1024);
        var sending = source.Far.SendAsync(payload, Token).AsTask();

        // Nobody reads the destination, so it fills and the bytes left in the pipe must come out by copying.
        var drained = 0;
        var blocked = false;
        while (!blocked)
        {
            await source.Near.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, Token);
            Assert.True(pipe.Fill(source.Near) > 0);
            while (pipe.Pending > 0 && !blocked)
            {
                var moved = pipe.Drain(destination.Near);
                blocked = moved < 0;
                drained += Math.Max(moved, 0);
            }
        }

        var kept = new byte[pipe.Pending];
        var taken = 0;
        while (pipe.Pending > 0)
        {
            taken += pipe.TakePending(kept.AsSpan(taken));
        }

        Assert.Equal(kept.Length, taken);
        Assert.True(kept.Length > 0);
        var through = new byte[drained];
        await destination.Far.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, Token);
        for (var at = 0; at < drained;)
        {
            at += await destination.Far.ReceiveAsync(through.AsMemory(at), Token);
        }

        Assert.True(payload.AsSpan(0, drained).SequenceEqual(through), "the destination got other bytes than the source sent");
        Assert.True(payload.AsSpan(drained, kept.Length).SequenceEqual(kept), "the bytes taken out of the pipe are not the ones that followed");
        // The rest of the source's bytes are not read: its send ends, whichever way, once the proxy's end closes.
        source.Near.Dispose();
        await Record.ExceptionAsync(() => sending);
    }

    [Fact]
    public async Task Fill_SourceReset_ThrowsSocketException()
    {
        Requirements.SkipUnless(SplicePipe.IsSupported, "splice(2) is Linux's");
        using var source = await SocketPair.OpenAsync();
        using var pipe = SplicePipe.TryCreate();
        Assert.NotNull(pipe);

        source.Far.LingerState = new LingerOption(true, 0);
        source.Far.Close();
        await Task.Delay(50, Token);

        Assert.Throws<SocketException>(() => pipe.Fill(source.Near));
    }

    [Fact]
    public async Task Drain_DestinationReset_ThrowsSocketException()
    {
        Requirements.SkipUnless(SplicePipe.IsSupported, "splice(2) is Linux's");
        using var source = await SocketPair.OpenAsync();
        using var destination = await SocketPair.OpenAsync();
        using var pipe = SplicePipe.TryCreate();
        Assert.NotNull(pipe);
        destination.Far.LingerState = new LingerOption(true, 0);
        destination.Far.Close();
        await Task.Delay(50, Token);
        await source.Far.SendAsync(new byte[64 * 1024], Token);
        await source.Near.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, Token);
        Assert.True(pipe.Fill(source.Near) > 0);

        // EPIPE or ECONNRESET; SIGPIPE is ignored by the runtime, so the process lives on.
        Assert.Throws<SocketException>(() =>
        {
            while (pipe.Pending > 0)
            {
                pipe.Drain(destination.Near);
            }
        });
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public async Task Relay_BulkDownload_ReachesTheClientWholeAndIsSplicedOnlyWhenAsked(bool slowClient, bool splice)
    {
        Requirements.SkipUnless(SplicePipe.IsSupported, "splice(2) is Linux's");
        using var upstream = await SocketPair.OpenAsync();
        using var client = await SocketPair.OpenAsync();
        var payload = RandomNumberGenerator.GetBytes(24 * 1024 * 1024);
        var clientInput = new Pipe();
        var relay = new TunnelRelay(clientInput.Reader, new ClientSink(new SocketConnection(client.Near)), upstream.Near, TimeSpan.FromMinutes(1), TimeProvider.System, splice);
        var running = relay.RunAsync(Token);

        var origin = Task.Run(async () =>
        {
            await upstream.Far.SendAsync(payload, Token);
            upstream.Far.Shutdown(SocketShutdown.Send);
        }, Token);
        using var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await client.Far.ReceiveAsync(buffer, Token)) > 0)
        {
            received.Write(buffer, 0, read);
            if (slowClient && received.Length % (4 * 1024 * 1024) < read)
            {
                // The client's socket fills while it pauses: the relay must wait for it, not drop or reorder bytes.
                await Task.Delay(100, Token);
            }
        }

        await origin;
        await clientInput.Writer.CompleteAsync();
        var result = await running.WaitAsync(TimeSpan.FromSeconds(30), Token);

        Assert.Equal(payload.Length, received.Length);
        Assert.True(payload.AsSpan().SequenceEqual(received.ToArray()), "the client got other bytes than the destination sent");
        Assert.Equal(TunnelEnd.Closed, result.End);
        Assert.Equal(payload.Length, result.BytesDown);
        if (splice)
        {
            Assert.True(result.BytesSpliced > payload.Length / 2, $"only {result.BytesSpliced:N0} of {payload.Length:N0} bytes were spliced");
        }
        else
        {
            Assert.Equal(0, result.BytesSpliced);
        }
    }

    [Fact]
    public async Task Relay_ClientResetsDuringASplicedDownload_EndsAsTheClientsFailure()
    {
        Requirements.SkipUnless(SplicePipe.IsSupported, "splice(2) is Linux's");
        using var upstream = await SocketPair.OpenAsync();
        using var client = await SocketPair.OpenAsync();
        var clientInput = new Pipe();
        var relay = new TunnelRelay(clientInput.Reader, new ClientSink(new SocketConnection(client.Near)), upstream.Near, TimeSpan.FromMinutes(1), TimeProvider.System, splice: true);
        var running = relay.RunAsync(Token);
        using var stopOrigin = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var origin = Task.Run(async () =>
        {
            var chunk = new byte[1024 * 1024];
            while (!stopOrigin.IsCancellationRequested)
            {
                await upstream.Far.SendAsync(chunk, stopOrigin.Token);
            }
        }, Token);

        var buffer = new byte[64 * 1024];
        long received = 0;
        while (received < 8 * 1024 * 1024)
        {
            received += await client.Far.ReceiveAsync(buffer, Token);
        }

        // A reset while the relay splices into the client's socket: the splice fails with EPIPE or ECONNRESET (and,
        // were SIGPIPE not ignored, would kill the process); the tunnel must end as the client's failure.
        client.Far.LingerState = new LingerOption(true, 0);
        client.Far.Close();
        var result = await running.WaitAsync(TimeSpan.FromSeconds(30), Token);
        await stopOrigin.CancelAsync();
        await Record.ExceptionAsync(() => origin);

        Assert.Equal(TunnelEnd.ClientFailed, result.End);
        Assert.True(result.BytesSpliced > 0, "the download was not spliced");
    }
}
