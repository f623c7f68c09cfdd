using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace EgressLab.ProxyInstance.Authentication;

/// <summary>Parses <c>Proxy-Authorization: Basic ...</c> credentials (RFC 7617).</summary>
internal static class BasicCredentials
{
    private const string Scheme = "Basic";
    private const int StackLimit = 512;

    /// <summary>
    /// Reads the user-id and password from a <c>Basic</c> credentials value. False for another scheme, a malformed token,
    /// invalid UTF-8, a missing colon, or control characters.
    /// </summary>
    public static bool TryParse(string? headerValue, out string user, out string password)
    {
        user = string.Empty;
        password = string.Empty;
        if (headerValue is null)
        {
            return false;
        }

        // RFC 9110 section 5.5: optional whitespace around a field value is not part of it.
        var value = headerValue.AsSpan().Trim(" \t");

        // RFC 9110 section 11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]; section 11.1: the scheme is case-insensitive.
        if (value.Length <= Scheme.Length
            || !value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            || value[Scheme.Length] != ' ')
        {
            return false;
        }

        var token = value[(Scheme.Length + 1)..].TrimStart(' ');
        if (!IsBase64Token(token))
        {
            return false;
        }

        var maxLength = Base64.GetMaxDecodedFromUtf8Length(token.Length);
        byte[]? rented = null;
        var decoded = maxLength <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(maxLength));
        try
        {
            if (!Convert.TryFromBase64Chars(token, decoded, out var length))
            {
                return false;
            }

            decoded = decoded[..length];
            if (!TryFindColon(decoded, out var colon))
            {
                return false;
            }

            user = Encoding.UTF8.GetString(decoded[..colon]);
            password = Encoding.UTF8.GetString(decoded[(colon + 1)..]);
            return true;
        }
        finally
        {
            // The buffer held a password.
            CryptographicOperations.ZeroMemory(decoded);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// RFC 7617 section 2 uses base64 of RFC 4648 section 4: the standard alphabet with '=' padding to a multiple of four.
    /// Checked here because <see cref="Convert.TryFromBase64Chars"/> would skip embedded whitespace.
    /// </summary>
    private static bool IsBase64Token(ReadOnlySpan<char> token)
    {
        if (token.Length == 0 || token.Length % 4 != 0)
        {
            return false;
        }

        var padding = token.EndsWith("==") ? 2 : token.EndsWith("=") ? 1 : 0;
        foreach (var c in token[..^padding])
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '+' && c != '/')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Validates the decoded user-pass as UTF-8 without control characters (RFC 7617 section 2: CTLs are not allowed;
    /// section 2.1: UTF-8) and finds the first colon, which ends the user-id (section 2: a user-id cannot contain one).
    /// </summary>
    private static bool TryFindColon(ReadOnlySpan<byte> userPass, out int colon)
    {
        colon = -1;
        var position = 0;
        while (position < userPass.Length)
        {
            if (Rune.DecodeFromUtf8(userPass[position..], out var rune, out var consumed) != OperationStatus.Done
                || Rune.IsControl(rune))
            {
                return false;
            }

            if (colon < 0 && rune.Value == ':')
            {
                colon = position;
            }

            position += consumed;
        }

        return colon >= 0;
    }
}
