using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using EgressLab.LoadTests.Load;
using EgressLab.LoadTests.Measurement;

namespace EgressLab.LoadTests.Scenarios;

/// <summary>
/// http-small, https-small, bulk and upload: requests through one <see cref="HttpClient"/> over HTTP/1.1 keep-alive
/// connections, directly or through a plain-HTTP proxy (absolute-form for http, CONNECT for https).
/// </summary>
/// <remarks>
/// When the connections are limited, a request first waits for a free one at a gate of that size, and counts as sent
/// only when it has one: SocketsHttpHandler would otherwise queue it internally, where the wait cannot be seen and would
/// end up in the uncorrected latency.
/// </remarks>
internal sealed class HttpScenario : ILoadOperation
{
    private const int ReadBufferSize = 64 * 1024;

    private readonly HttpClient _client;
    private readonly Uri _target;
    private readonly TimeSpan _timeout;
    private readonly SemaphoreSlim? _gate;
    private readonly long? _expectedBytesDown;
    private readonly byte[]? _uploadBody;

    /// <param name="maxConnections">The most connections to open; 0 for no limit beyond the requests in flight.</param>
    /// <param name="uploadBytes">upload: the size of each request's body.</param>
    public HttpScenario(ScenarioKind kind, Uri target, Uri? proxy, CertificateTrust trust, TimeSpan timeout, int maxConnections,
        int uploadBytes = ScenarioCatalog.UploadBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(uploadBytes, 1);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(trust);
        if (kind == ScenarioKind.NewConnection)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "new-connection makes its own connections");
        }

        _target = target;
        _timeout = timeout;
        _expectedBytesDown = ScenarioCatalog.ExpectedBytesDown(kind);
        if (kind == ScenarioKind.Upload)
        {
            // Random bytes, so no compression on the path can shrink what is measured.
            _uploadBody = RandomNumberGenerator.GetBytes(uploadBytes);
        }

        if (maxConnections > 0)
        {
            _gate = new SemaphoreSlim(maxConnections, maxConnections);
        }

        var handler = new SocketsHttpHandler
        {
            UseProxy = proxy is not null,
            Proxy = proxy is null ? null : new WebProxy(proxy),
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            MaxConnectionsPerServer = maxConnections > 0 ? maxConnections : int.MaxValue,
            ConnectTimeout = timeout,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        if (trust.Callback is { } callback)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = callback;
        }

        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("egress-lab-load/1.0");
    }

    public IReadOnlyList<string> PhaseNames => [];

    public async ValueTask<OperationOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        var token = timeout.Token;
        var sent = Stopwatch.GetTimestamp();
        var gated = false;
        long bytesDown = 0;
        byte[]? buffer = null;
        try
        {
            if (_gate is not null)
            {
                await _gate.WaitAsync(token).ConfigureAwait(false);
                gated = true;
                sent = Stopwatch.GetTimestamp();
            }

            using var request = new HttpRequestMessage(_uploadBody is null ? HttpMethod.Get : HttpMethod.Post, _target)
            {
                Version = HttpVersion.Version11,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            if (_uploadBody is not null)
            {
                request.Content = new ByteArrayContent(_uploadBody) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } };
            }

            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            buffer = ArrayPool<byte>.Shared.Rent(ReadBufferSize);
            var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                int read;
                while ((read = await body.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
                {
                    bytesDown += read;
                }
            }

            var status = (int)response.StatusCode;
            if (status is < 200 or > 299)
            {
                // How much of an upload a refusing server read is unknown: none is counted.
                return new OperationOutcome(sent, bytesDown, 0, RequestError.HttpStatus, status, null);
            }

            // The origin answers an upload with 200 only once it has read the whole body.
            var bytesUp = _uploadBody?.Length ?? 0;

            var error = _expectedBytesDown is { } expected && bytesDown != expected ? RequestError.BodySize : RequestError.None;
            return new OperationOutcome(sent, bytesDown, bytesUp, error, status, null);
        }
        catch (Exception exception) when (ErrorClassifier.IsRequestFailure(exception))
        {
            return new OperationOutcome(sent, bytesDown, 0, ErrorClassifier.Classify(exception), 0, null);
        }
        finally
        {
            if (gated)
            {
                _gate!.Release();
            }

            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _gate?.Dispose();
    }
}
