using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EgressLab.ProxyInstance.Authentication;

/// <summary>
/// Users and their SHA-crypt hashes, loaded from a file of <c>user:hash</c> lines. Immutable; a reload builds a new store,
/// which also drops the verification cache.
/// </summary>
internal sealed class CredentialStore
{
    /// <summary>Most successful verifications remembered; a proxy has few users, each resending one header on every request.</summary>
    public const int MaxCacheEntries = 1024;

    private const int StackKeyLimit = 512;

    private readonly Dictionary<string, string> _hashes;
    private readonly string _dummyHash;

    // Keyed by HMAC-SHA256(cache key, "user:password"): a memory dump shows neither the password nor an unsalted fast hash of it.
    private readonly byte[] _cacheKey = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<CacheEntry, byte> _cache = new();
    private readonly Lock _cacheAddLock = new();

    private CredentialStore(Dictionary<string, string> hashes, string dummyHash)
    {
        _hashes = hashes;
        _dummyHash = dummyHash;
    }

    /// <summary>Number of users.</summary>
    public int Count => _hashes.Count;

    /// <summary>Entries in the verification cache; for tests and diagnostics.</summary>
    internal int CachedCount => _cache.Count;

    /// <summary>Reads <paramref name="path"/>. On failure, <paramref name="errors"/> gets one <c>FILE:LINE: message</c> per problem.</summary>
    public static bool TryLoad(string path, List<string> errors, [NotNullWhen(true)] out CredentialStore? store)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(errors);
        store = null;

        string[] lines;
        try
        {
            lines = File.ReadAllLines(path, Encoding.UTF8);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            errors.Add($"{path}: cannot read the users file: {ex.Message}");
            return false;
        }

        return TryParse(path, lines, errors, out store);
    }

    /// <summary>Parses the lines of a users file; <paramref name="source"/> names it in error messages.</summary>
    internal static bool TryParse(string source, IReadOnlyList<string> lines, List<string> errors, [NotNullWhen(true)] out CredentialStore? store)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(errors);
        store = null;

        var errorCount = errors.Count;
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        string? firstHash = null;
        for (var i = 0; i < lines.Count; i++)
        {
            var lineNumber = i + 1;
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                errors.Add($"{source}:{lineNumber}: expected 'user:hash', found no ':'.");
                continue;
            }

            var user = line[..colon];
            var hash = line[(colon + 1)..];
            if (user.Length == 0)
            {
                errors.Add($"{source}:{lineNumber}: the user name is empty.");
                continue;
            }

            if (ContainsControl(user))
            {
                // RFC 7617 section 2: a user-id cannot contain control characters, so no client could send this one.
                errors.Add($"{source}:{lineNumber}: the user name contains a control character.");
                continue;
            }

            if (!ShaCrypt.IsSupported(hash))
            {
                // The hash field is never echoed: it may well be a plain-text password.
                errors.Add($"{source}:{lineNumber}: user '{user}': {DescribeUnsupported(hash)} Store a SHA-crypt hash instead, made with e.g. `openssl passwd -6`.");
                continue;
            }

            if (firstLine.TryGetValue(user, out var previous))
            {
                errors.Add($"{source}:{lineNumber}: user '{user}' is already defined on line {previous.ToString(CultureInfo.InvariantCulture)}.");
                continue;
            }

            firstLine.Add(user, lineNumber);
            hashes.Add(user, hash);
            firstHash ??= hash;
        }

        if (errors.Count > errorCount)
        {
            return false;
        }

        if (firstHash is null)
        {
            errors.Add($"{source}: defines no users; add 'user:hash' lines, the hash made with e.g. `openssl passwd -6`.");
            return false;
        }

        store = new CredentialStore(hashes, CreateDummyHash(firstHash));
        return true;
    }

    /// <summary>
    /// Whether <paramref name="user"/> exists and <paramref name="password"/> is theirs. An unknown user costs a full hash as well,
    /// so response time does not tell which user names exist.
    /// </summary>
    public bool Verify(string user, ReadOnlySpan<char> password)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!_hashes.TryGetValue(user, out var hash))
        {
            _ = ShaCrypt.Verify(password, _dummyHash);
            return false;
        }

        var key = ComputeCacheKey(user, password);
        if (_cache.ContainsKey(key))
        {
            return true;
        }

        if (!ShaCrypt.Verify(password, hash))
        {
            return false;
        }

        lock (_cacheAddLock)
        {
            // Adds are serialised so the bound holds exactly; lookups stay lock-free.
            if (_cache.Count >= MaxCacheEntries)
            {
                _cache.Clear();
            }

            _cache.TryAdd(key, 0);
        }

        return true;
    }

    private CacheEntry ComputeCacheKey(string user, ReadOnlySpan<char> password)
    {
        var length = Encoding.UTF8.GetByteCount(user) + 1 + Encoding.UTF8.GetByteCount(password);
        byte[]? rented = null;
        var buffer = length <= StackKeyLimit ? stackalloc byte[StackKeyLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(user, buffer);
            buffer[written++] = (byte)':';
            written += Encoding.UTF8.GetBytes(password, buffer[written..]);
            Span<byte> mac = stackalloc byte[32];
            HMACSHA256.HashData(_cacheKey, buffer[..written], mac);
            return new CacheEntry(mac);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer[..length]);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>A hash of a random password with the parameters of a real entry, so an unknown user takes as long as a known one.</summary>
    private static string CreateDummyHash(string template)
    {
        var setting = template[..(template.LastIndexOf('$') + 1)];
        var salt = RandomNumberGenerator.GetString("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 16);
        var password = RandomNumberGenerator.GetHexString(32);
        var saltStart = setting.LastIndexOf('$', setting.Length - 2) + 1;
        return ShaCrypt.Hash(password, string.Concat(setting.AsSpan(0, saltStart), salt));
    }

    private static string DescribeUnsupported(string hash)
    {
        if (hash.Length == 0)
        {
            return "the hash is empty.";
        }

        if (hash.StartsWith("$5$", StringComparison.Ordinal) || hash.StartsWith("$6$", StringComparison.Ordinal))
        {
            return "the SHA-crypt hash is malformed (bad rounds, salt longer than 16 characters, or wrong checksum length).";
        }

        return hash[0] == '$'
            ? "the hash scheme is not supported (only SHA-crypt $5$ and $6$ are)."
            : "this is not a hash; plain-text passwords are not accepted.";
    }

    private static bool ContainsControl(string value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A 256-bit MAC as four words, so cache lookups neither allocate nor hash a byte array.</summary>
    private readonly record struct CacheEntry
    {
        private readonly ulong _w0;
        private readonly ulong _w1;
        private readonly ulong _w2;
        private readonly ulong _w3;

        public CacheEntry(ReadOnlySpan<byte> mac)
        {
            _w0 = BitConverter.ToUInt64(mac);
            _w1 = BitConverter.ToUInt64(mac[8..]);
            _w2 = BitConverter.ToUInt64(mac[16..]);
            _w3 = BitConverter.ToUInt64(mac[24..]);
        }
    }
}
