using System.Security.Cryptography;
using EgressLab.ProxyInstance.Tests.TestHost;

namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>
/// Built once for <see cref="InteropMatrixTests"/>: the shared origin, the upload file and the expected hashes,
/// and the clients (the Go one compiled here, once, and Python's interpreter chosen here).
/// Public only because xunit hands it to the test class's public constructor.
/// </summary>
public sealed class InteropMatrixFixture : IAsyncLifetime
{
    /// <summary>The download: /bytes/N serves N bytes of <see cref="OriginServer.PatternByte"/>.</summary>
    public const long DownloadSize = 10 * 1024 * 1024;

    public const long UploadSize = 4 * 1024 * 1024;

    private InteropEnvironment? _environment;
    private Dictionary<InteropClientKind, IInteropClient>? _clients;

    internal InteropEnvironment Shared => _environment ?? throw new InvalidOperationException("not initialized");

    internal IReadOnlyDictionary<InteropClientKind, IInteropClient> Clients => _clients ?? throw new InvalidOperationException("not initialized");

    /// <summary>A file of <see cref="UploadSize"/> bytes that no byte pattern can pass for: SHA-256 in counter mode.</summary>
    internal string UploadPath { get; private set; } = string.Empty;

    /// <summary>What /sha256 must answer for the upload: "LENGTH SHA256HEX".</summary>
    internal string ExpectedUploadAnswer { get; private set; } = string.Empty;

    internal string ExpectedDownloadSha256 { get; } = DownloadSha256();

    public async ValueTask InitializeAsync()
    {
        var token = TestContext.Current.CancellationToken;
        _environment = await InteropEnvironment.StartAsync("matrix", token);
        UploadPath = Path.Combine(Shared.Directory, "upload.bin");
        var upload = CounterModeBytes(UploadSize);
        await File.WriteAllBytesAsync(UploadPath, upload, token);
        ExpectedUploadAnswer = $"{UploadSize} {Convert.ToHexStringLower(SHA256.HashData(upload))}";
        _clients = new Dictionary<InteropClientKind, IInteropClient>
        {
            [InteropClientKind.Curl] = new CurlClient(),
            [InteropClientKind.Wget] = new WgetClient(),
            [InteropClientKind.PythonRequests] = await PythonRequestsClient.CreateAsync(Shared.Directory, token),
            [InteropClientKind.GoNetHttp] = await GoNetHttpClient.CreateAsync(Shared.Directory, token),
            [InteropClientKind.DotNetHttpClient] = new DotNetHttpClient(),
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (_environment is not null)
        {
            await _environment.DisposeAsync();
        }
    }

    internal static byte[] CounterModeBytes(long size)
    {
        var bytes = new byte[size];
        Span<byte> counter = stackalloc byte[8];
        for (var offset = 0; offset < size; offset += 32)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(counter, offset);
            SHA256.HashData(counter).AsSpan(0, (int)Math.Min(32, size - offset)).CopyTo(bytes.AsSpan(offset));
        }

        return bytes;
    }

    private static string DownloadSha256()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        for (long offset = 0; offset < DownloadSize; offset += buffer.Length)
        {
            var count = (int)Math.Min(buffer.Length, DownloadSize - offset);
            for (var i = 0; i < count; i++)
            {
                buffer[i] = OriginServer.PatternByte(offset + i);
            }

            hash.AppendData(buffer, 0, count);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
