using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using EgressLab.ProxyInstance.AccessLog;
using EgressLab.ProxyInstance.Configuration;
using EgressLab.ProxyInstance.Errors;
using EgressLab.ProxyInstance.Limits;
using Microsoft.AspNetCore.Connections;
using EgressLab.ProxyInstance.Tunnel;

namespace EgressLab.ProxyInstance.Connections;

/// <summary>
/// Connection middleware on the proxy listener. It peeks at the first request line without consuming it:
/// a <c>CONNECT</c> is handled here, anything else goes on to Kestrel's HTTP/1.1 pipeline untouched.
/// Kestrel's HTTP layer cannot run CONNECT tunnels (dotnet/aspnetcore #21953), so they live at this layer.
/// </summary>
internal sealed class ProxyConnectionMiddleware
{
    private readonly ConnectionDelegate _next;
    private readonly RuntimeSettingsStore _settings;
    private readonly TunnelHandler _tunnels;
    private readonly TimeProvider _timeProvider;
    private readonly ClientLimits _limits;

    public ProxyConnectionMiddleware(ConnectionDelegate next, IServiceProvider services)
    {
        _next = next;
        _settings = services.GetRequiredService<RuntimeSettingsStore>();
        _tunnels = services.GetRequiredService<TunnelHandler>();
        _timeProvider = services.GetRequiredService<TimeProvider>();
        _limits = services.GetRequiredService<ClientLimits>();
    }

    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        // Counted here rather than by Kestrel, so a connection past the limit still gets a 503 with the reason
        // once its first request head is read, not a silent close.
        var admitted = _limits.OpenConnection(_settings.Startup.MaxConnections);
        try
        {
            await HandleAsync(connection, admitted).ConfigureAwait(false);
        }
        finally
        {
            _limits.CloseConnection();
        }
    }

    private async Task HandleAsync(ConnectionContext connection, bool admitted)
    {
        var settings = _settings.Current;
        var input = connection.Transport.Input;
        // Not linked to ConnectionClosed: Kestrel fires it when the client half-closes, and a client may send its
        // request and then half-close (RFC 9112 §9.6); it still gets its answer. A client that left is seen as the
        // end of input, or as a reset.
        using var headTimeout = new CancellationTokenSource();
        // Restart-only, like Kestrel's own limits on the plain-HTTP path: taken from the startup settings.
        var startup = _settings.Startup;
        headTimeout.CancelAfter(startup.RequestHeadersTimeout);

        ReadResult result;
        while (true)
        {
            try
            {
                result = await input.ReadAsync(headTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                // Nothing arrived in time, or the client reset: close quietly, as Kestrel does for an idle connection.
                return;
            }

            var isConnect = ConnectRequestParser.StartsWithConnect(result.Buffer);
            if (isConnect is null && !result.IsCompleted)
            {
                input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                continue;
            }

            if (isConnect != true)
            {
                // Not a tunnel: hand every byte, unconsumed, to the HTTP pipeline, through a recorder that keeps
                // each request head as sent (Kestrel rewrites the Connection field).
                input.AdvanceTo(result.Buffer.Start);
                var plain = new PlainHttpConnection(connection, ConnectRequestParser.MaxRequestLineBytes + startup.MaxRequestHeadBytes + 4)
                {
                    OverConnectionLimit = !admitted,
                };
                await using (plain.ConfigureAwait(false))
                {
                    await _next(plain).ConfigureAwait(false);
                }

                return;
            }

            break;
        }

        var started = Stopwatch.GetTimestamp();
        var time = _timeProvider.GetUtcNow();
        var sink = new ClientSink(connection);
        var client = ClientAddress(connection);
        ConnectRequest? request;
        while (true)
        {
            var buffer = result.Buffer;
            var status = ConnectRequestParser.TryParse(buffer, startup.MaxRequestHeadBytes, out request, out var parseError, out var consumed, out var examined);
            if (status == ConnectParseStatus.Complete)
            {
                // Bytes after the head (a pipelined ClientHello) stay in the pipe for the relay.
                input.AdvanceTo(consumed);
                break;
            }

            if (status == ConnectParseStatus.Error)
            {
                input.AdvanceTo(buffer.End);
                var error = parseError switch
                {
                    ConnectParseError.HeadTooLarge => ProxyError.RequestHeadTooLarge,
                    ConnectParseError.RequestLineTooLong => ProxyError.RequestLineTooLong,
                    ConnectParseError.UnsupportedVersion => ProxyError.VersionNotSupported,
                    _ => ProxyError.InvalidRequest,
                };
                await _tunnels.RefuseAsync(sink, AccessLogEntry.ForTunnel(time, started, client, "-"), error, Describe(parseError), settings,
                    _tunnels.DrainExpired).ConfigureAwait(false);
                return;
            }

            if (result.IsCompleted)
            {
                input.AdvanceTo(buffer.End);
                return;
            }

            input.AdvanceTo(buffer.Start, examined);
            try
            {
                result = await input.ReadAsync(headTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await _tunnels.RefuseAsync(sink, AccessLogEntry.ForTunnel(time, started, client, "-"), ProxyError.RequestHeadersTimeout, null, settings,
                    _tunnels.DrainExpired).ConfigureAwait(false);
                return;
            }
            catch (IOException)
            {
                // The client reset before its request head was complete.
                return;
            }
        }

        if (!admitted)
        {
            var detail = ClientLimits.TooManyConnectionsDetail(startup.MaxConnections);
            await _tunnels.RefuseAsync(sink, AccessLogEntry.ForTunnel(time, started, client, request!.RawAuthority), ProxyError.TooManyConnections, detail,
                settings, _tunnels.DrainExpired, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            return;
        }

        await _tunnels.RunAsync(input, sink, request!, AccessLogEntry.ForTunnel(time, started, client, request!.RawAuthority), settings).ConfigureAwait(false);
    }

    private static string Describe(ConnectParseError error) => error switch
    {
        ConnectParseError.InvalidAuthority => TunnelHandler.InvalidAuthorityDetail,
        ConnectParseError.MalformedRequestLine => "malformed request line",
        ConnectParseError.InvalidHeader => "malformed header field",
        ConnectParseError.HeadTooLarge => "request head too large",
        ConnectParseError.RequestLineTooLong => "request line too long",
        ConnectParseError.UnsupportedVersion => "unsupported HTTP version",
        _ => error.ToString(),
    };

    internal static IPAddress? ClientAddress(ConnectionContext connection) => connection.RemoteEndPoint switch
    {
        IPEndPoint { Address.IsIPv4MappedToIPv6: true } ip => ip.Address.MapToIPv4(),
        IPEndPoint ip => ip.Address,
        _ => null,
    };
}
