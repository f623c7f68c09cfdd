using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EgressLab.ProxyInstance.Authentication;

/// <summary>
/// SHA-crypt (<c>$5$</c> SHA-256, <c>$6$</c> SHA-512) as specified by Ulrich Drepper in
/// "Unix crypt using SHA-256 and SHA-512"; the form <c>openssl passwd -5/-6</c> and glibc <c>crypt(3)</c> produce.
/// </summary>
internal static class ShaCrypt
{
    /// <summary>
    /// Longest password, in UTF-8 bytes, this implementation hashes. The algorithm hashes the password
    /// length² bytes once and ~2·length bytes per round, so an unbounded password from a request header
    /// would let a client burn CPU; 256 bytes covers pass phrases and API tokens.
    /// </summary>
    public const int MaxPasswordBytes = 256;

    /// <summary>Rounds used when the hash has no <c>rounds=</c> field (spec: "rounds default 5000").</summary>
    public const int DefaultRounds = 5000;

    private const int MinRounds = 1000;
    private const int MaxRounds = 999_999_999;
    private const int MaxSaltLength = 16;
    private const int Sha256ChecksumLength = 43;
    private const int Sha512ChecksumLength = 86;
    private const string RoundsPrefix = "rounds=";

    private static ReadOnlySpan<byte> Alphabet => "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8;

    // The spec's byte permutation for the final encoding: each triple is (B2, B1, B0) of one 24-bit group, emitting 4 characters.
    private static ReadOnlySpan<byte> Sha256Order =>
    [
        0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14,
        15, 25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29,
    ];

    private static ReadOnlySpan<byte> Sha512Order =>
    [
        0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4, 47, 5, 26, 6, 27, 48,
        28, 49, 7, 50, 8, 29, 9, 30, 51, 31, 52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13,
        56, 14, 35, 15, 36, 57, 37, 58, 16, 59, 17, 38, 18, 39, 60, 40, 61, 19, 62, 20, 41,
    ];

    /// <summary>Whether <paramref name="hash"/> is a well-formed <c>$5$</c>/<c>$6$</c> hash this class can verify.</summary>
    public static bool IsSupported(string hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        return TryParseHash(hash, out _);
    }

    /// <summary>Whether <paramref name="password"/> matches <paramref name="hash"/>. False for unsupported hashes and over-long passwords.</summary>
    public static bool Verify(ReadOnlySpan<char> password, string hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        if (!TryParseHash(hash, out var parsed))
        {
            return false;
        }

        Span<byte> passwordBytes = stackalloc byte[MaxPasswordBytes];
        if (!Encoding.UTF8.TryGetBytes(password, passwordBytes, out var passwordLength))
        {
            return false;
        }

        Span<byte> salt = stackalloc byte[MaxSaltLength];
        var saltLength = Encoding.ASCII.GetBytes(parsed.Salt, salt);

        Span<byte> expected = stackalloc byte[Sha512ChecksumLength];
        var expectedLength = Encoding.ASCII.GetBytes(parsed.Checksum, expected);

        Span<byte> actual = stackalloc byte[Sha512ChecksumLength];
        try
        {
            var actualLength = Compute(parsed.Sha512, parsed.Rounds, passwordBytes[..passwordLength], salt[..saltLength], actual);
            return actualLength == expectedLength
                && CryptographicOperations.FixedTimeEquals(actual[..actualLength], expected[..expectedLength]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
        }
    }

    /// <summary>
    /// Hashes <paramref name="password"/> with the parameters of <paramref name="setting"/>
    /// (<c>$6$salt</c>, <c>$5$rounds=N$salt</c>, or a complete hash), like <c>crypt(3)</c>:
    /// the salt is cut to 16 characters and rounds are clamped to 1000..999999999.
    /// </summary>
    /// <exception cref="ArgumentException">The setting is not SHA-crypt, or the password is longer than <see cref="MaxPasswordBytes"/>.</exception>
    public static string Hash(ReadOnlySpan<char> password, string setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        if (!TryParsePrefix(setting, out var sha512, out var rounds, out var roundsCustom, out var rest))
        {
            throw new ArgumentException("Not a SHA-crypt setting ($5$... or $6$...).", nameof(setting));
        }

        var saltEnd = rest.IndexOf('$');
        var saltChars = saltEnd < 0 ? rest : rest[..saltEnd];
        if (saltChars.Length > MaxSaltLength)
        {
            saltChars = saltChars[..MaxSaltLength];
        }

        if (!IsValidSalt(saltChars))
        {
            throw new ArgumentException("The salt holds characters other than printable ASCII.", nameof(setting));
        }

        Span<byte> passwordBytes = stackalloc byte[MaxPasswordBytes];
        if (!Encoding.UTF8.TryGetBytes(password, passwordBytes, out var passwordLength))
        {
            throw new ArgumentException($"The password is longer than {MaxPasswordBytes} UTF-8 bytes.", nameof(password));
        }

        Span<byte> salt = stackalloc byte[MaxSaltLength];
        var saltLength = Encoding.ASCII.GetBytes(saltChars, salt);
        Span<byte> checksum = stackalloc byte[Sha512ChecksumLength];
        try
        {
            var checksumLength = Compute(sha512, rounds, passwordBytes[..passwordLength], salt[..saltLength], checksum);
            var builder = new StringBuilder(128);
            builder.Append(sha512 ? "$6$" : "$5$");
            if (roundsCustom)
            {
                // crypt(3) writes rounds= back only when the setting named it, with the clamped value.
                builder.Append(RoundsPrefix).Append(rounds.ToString(CultureInfo.InvariantCulture)).Append('$');
            }

            builder.Append(saltChars).Append('$').Append(Encoding.ASCII.GetString(checksum[..checksumLength]));
            return builder.ToString();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
        }
    }

    private readonly ref struct ParsedHash(bool sha512, int rounds, ReadOnlySpan<char> salt, ReadOnlySpan<char> checksum)
    {
        public bool Sha512 { get; } = sha512;

        public int Rounds { get; } = rounds;

        public ReadOnlySpan<char> Salt { get; } = salt;

        public ReadOnlySpan<char> Checksum { get; } = checksum;
    }

    /// <summary>Strict form of a stored hash: prefix, optional rounds, salt of at most 16 characters, exact-length checksum.</summary>
    private static bool TryParseHash(string hash, out ParsedHash parsed)
    {
        parsed = default;
        if (!TryParsePrefix(hash, out var sha512, out var rounds, out _, out var rest))
        {
            return false;
        }

        var saltEnd = rest.IndexOf('$');
        if (saltEnd < 0 || saltEnd > MaxSaltLength)
        {
            return false;
        }

        var salt = rest[..saltEnd];
        var checksum = rest[(saltEnd + 1)..];
        if (!IsValidSalt(salt) || checksum.Length != (sha512 ? Sha512ChecksumLength : Sha256ChecksumLength))
        {
            return false;
        }

        foreach (var c in checksum)
        {
            if (c > 0x7F || !Alphabet.Contains((byte)c))
            {
                return false;
            }
        }

        parsed = new ParsedHash(sha512, rounds, salt, checksum);
        return true;
    }

    /// <summary>Reads <c>$5$</c>/<c>$6$</c> and an optional <c>rounds=N$</c>; <paramref name="rest"/> starts at the salt.</summary>
    private static bool TryParsePrefix(string text, out bool sha512, out int rounds, out bool roundsCustom, out ReadOnlySpan<char> rest)
    {
        sha512 = false;
        rounds = DefaultRounds;
        roundsCustom = false;
        rest = default;
        if (text.StartsWith("$6$", StringComparison.Ordinal))
        {
            sha512 = true;
        }
        else if (!text.StartsWith("$5$", StringComparison.Ordinal))
        {
            return false;
        }

        rest = text.AsSpan(3);
        if (!rest.StartsWith(RoundsPrefix, StringComparison.Ordinal))
        {
            return true;
        }

        var digits = rest[RoundsPrefix.Length..];
        var end = digits.IndexOf('$');
        if (end <= 0)
        {
            return false;
        }

        ulong value = 0;
        foreach (var c in digits[..end])
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            // Saturate rather than overflow: anything past the maximum is clamped to it anyway.
            value = Math.Min((value * 10) + (ulong)(c - '0'), MaxRounds + 1UL);
        }

        rounds = (int)Math.Clamp(value, MinRounds, MaxRounds);
        roundsCustom = true;
        rest = digits[(end + 1)..];
        return true;
    }

    // '$' ends the salt and ':' ends a field in passwd-style files, so neither can be part of one.
    private static bool IsValidSalt(ReadOnlySpan<char> salt)
    {
        foreach (var c in salt)
        {
            if (c is < '!' or > '~' or '$' or ':')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The spec's algorithm, steps 1-21, then the custom base64 encoding; returns the checksum length.</summary>
    private static int Compute(bool sha512, int rounds, ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, Span<byte> output)
    {
        var size = sha512 ? 64 : 32;
        using var hash = IncrementalHash.CreateHash(sha512 ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);

        Span<byte> a = stackalloc byte[64];
        Span<byte> b = stackalloc byte[64];
        Span<byte> dp = stackalloc byte[64];
        Span<byte> ds = stackalloc byte[64];
        Span<byte> pSequence = stackalloc byte[MaxPasswordBytes];
        Span<byte> sSequence = stackalloc byte[MaxSaltLength];
        Span<byte> input = stackalloc byte[(2 * MaxPasswordBytes) + MaxSaltLength + 64];
        a = a[..size];
        b = b[..size];
        dp = dp[..size];
        ds = ds[..size];
        pSequence = pSequence[..password.Length];
        sSequence = sSequence[..salt.Length];

        try
        {
            // Steps 4-8: digest B = H(password, salt, password).
            hash.AppendData(password);
            hash.AppendData(salt);
            hash.AppendData(password);
            hash.GetHashAndReset(b);

            // Steps 1-3 and 9-12: digest A.
            hash.AppendData(password);
            hash.AppendData(salt);
            var remaining = password.Length;
            for (; remaining > size; remaining -= size)
            {
                hash.AppendData(b);
            }

            hash.AppendData(b[..remaining]);
            for (var bits = password.Length; bits > 0; bits >>= 1)
            {
                if ((bits & 1) != 0)
                {
                    hash.AppendData(b);
                }
                else
                {
                    hash.AppendData(password);
                }
            }

            hash.GetHashAndReset(a);

            // Steps 13-16: digest DP, the password once per password byte, stretched into the P sequence.
            for (var i = 0; i < password.Length; i++)
            {
                hash.AppendData(password);
            }

            hash.GetHashAndReset(dp);
            for (var offset = 0; offset < pSequence.Length; offset += size)
            {
                var count = Math.Min(size, pSequence.Length - offset);
                dp[..count].CopyTo(pSequence[offset..]);
            }

            // Steps 17-20: digest DS, the salt 16 + A[0] times, cut into the S sequence.
            for (var i = 0; i < 16 + a[0]; i++)
            {
                hash.AppendData(salt);
            }

            hash.GetHashAndReset(ds);
            ds[..salt.Length].CopyTo(sSequence);

            // Step 21: the rounds; the digest of each round feeds the next. Each round's input is assembled in one
            // buffer and appended in one call: the per-call overhead, not the hashing, dominates for short inputs.
            for (var round = 0; round < rounds; round++)
            {
                var odd = (round & 1) != 0;
                var length = 0;
                (odd ? pSequence : a).CopyTo(input);
                length += odd ? pSequence.Length : size;
                if (round % 3 != 0)
                {
                    sSequence.CopyTo(input[length..]);
                    length += sSequence.Length;
                }

                if (round % 7 != 0)
                {
                    pSequence.CopyTo(input[length..]);
                    length += pSequence.Length;
                }

                (odd ? a : pSequence).CopyTo(input[length..]);
                length += odd ? size : pSequence.Length;
                hash.AppendData(input[..length]);
                hash.GetHashAndReset(a);
            }

            return Encode(a, sha512, output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(a);
            CryptographicOperations.ZeroMemory(b);
            CryptographicOperations.ZeroMemory(dp);
            CryptographicOperations.ZeroMemory(pSequence);
            CryptographicOperations.ZeroMemory(input);
        }
    }

    /// <summary>Step 22: groups of three permuted bytes, each written as four characters, least significant six bits first.</summary>
    private static int Encode(ReadOnlySpan<byte> digest, bool sha512, Span<byte> output)
    {
        var order = sha512 ? Sha512Order : Sha256Order;
        var position = 0;
        for (var i = 0; i < order.Length; i += 3)
        {
            position = Emit(digest[order[i]], digest[order[i + 1]], digest[order[i + 2]], 4, output, position);
        }

        return sha512
            ? Emit(0, 0, digest[63], 2, output, position)
            : Emit(0, digest[31], digest[30], 3, output, position);
    }

    private static int Emit(byte b2, byte b1, byte b0, int count, Span<byte> output, int position)
    {
        var word = (b2 << 16) | (b1 << 8) | b0;
        for (var i = 0; i < count; i++)
        {
            output[position++] = Alphabet[word & 0x3F];
            word >>= 6;
        }

        return position;
    }
}
