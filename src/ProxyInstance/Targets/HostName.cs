using System.Buffers;
using System.Globalization;
using System.Text;

namespace EgressLab.ProxyInstance.Targets;

/// <summary>
/// Brings DNS names to the one form that patterns and hosts are compared in: ASCII lower case, at most one
/// trailing dot removed, internationalised labels in their punycode (<c>xn--</c>) form.
/// </summary>
internal static class HostName
{
    /// <summary>Longest name in text form: 255 octets on the wire less the length octets (RFC 1035 section 2.3.4).</summary>
    public const int MaxLength = 253;

    /// <summary>Longest label (RFC 1035 section 2.3.4).</summary>
    public const int MaxLabelLength = 63;

    // After lower-casing: letters, digits, hyphen (RFC 1123 section 2.1), underscore, and the label separator.
    private static readonly SearchValues<char> NameCharactersAndDot =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-_.");

    /// <summary>
    /// Writes the normalised form of <paramref name="name"/> to <paramref name="destination"/>, which must hold at
    /// least <see cref="MaxLength"/> characters.
    /// </summary>
    /// <param name="name">The name as written: any case, perhaps one trailing dot, perhaps Unicode.</param>
    /// <param name="destination">Receives the normalised name.</param>
    /// <param name="strict">
    /// Also refuse labels that start or end with a hyphen (RFC 1123 section 2.1). Configuration is checked strictly;
    /// request hosts are not, because such names exist in the wild and refusing to compare them helps nobody.
    /// </param>
    /// <param name="written">Length of the normalised name.</param>
    /// <param name="problem">On failure, the offending label within <paramref name="destination"/> where there is one.</param>
    /// <remarks>
    /// Letters, digits and hyphens are the RFC 1123 section 2.1 alphabet; underscores are accepted too because real
    /// names (service records, some CDNs) carry them. Only names that are not pure ASCII allocate.
    /// </remarks>
    public static HostNameStatus Normalize(
        ReadOnlySpan<char> name, Span<char> destination, bool strict, out int written, out Range problem)
    {
        written = 0;
        problem = default;

        // A trailing dot marks a fully qualified name (RFC 1034 section 3.1); it names the same host.
        if (name.Length > 0 && name[^1] == '.')
        {
            name = name[..^1];
        }

        if (name.IsEmpty)
        {
            return HostNameStatus.Empty;
        }

        var lowered = name.Length <= MaxLength
            && Ascii.ToLower(name, destination, out written) == OperationStatus.Done;
        if (!lowered)
        {
            // Punycode spends at least one character per code point (RFC 3492 section 6.3) and a code point is at
            // most two UTF-16 chars, so longer input cannot fit; refusing early keeps huge hosts from the encoder.
            if (name.Length > 2 * MaxLength || Ascii.IsValid(name))
            {
                return HostNameStatus.TooLong;
            }

            // The encoder reports every failure alike; an empty label has a more useful message of its own.
            if (name[0] == '.' || name.Contains("..", StringComparison.Ordinal))
            {
                return HostNameStatus.EmptyLabel;
            }

            var status = ToAscii(name, destination, out written);
            if (status != HostNameStatus.Valid)
            {
                return status;
            }
        }

        return Validate(destination[..written], strict, out problem);
    }

    private static HostNameStatus ToAscii(ReadOnlySpan<char> name, Span<char> destination, out int written)
    {
        written = 0;
        string ascii;
        try
        {
            // Lower-case first: punycode encodes upper- and lower-case non-ASCII letters differently
            // (RFC 3492 section 5), and a name must compare equal whatever case it was written in.
            // A fresh IdnMapping per call because its thread-safety is not documented; this path allocates anyway.
            ascii = new IdnMapping().GetAscii(name.ToString().ToLowerInvariant());
        }
        catch (ArgumentException)
        {
            return HostNameStatus.InvalidInternationalName;
        }

        if (ascii.Length > MaxLength)
        {
            return HostNameStatus.TooLong;
        }

        if (!Ascii.IsValid(ascii))
        {
            return HostNameStatus.InvalidInternationalName;
        }

        Ascii.ToLower(ascii, destination, out written);
        return HostNameStatus.Valid;
    }

    private static HostNameStatus Validate(ReadOnlySpan<char> name, bool strict, out Range problem)
    {
        var invalid = name.IndexOfAnyExcept(NameCharactersAndDot);
        if (invalid >= 0)
        {
            problem = LabelAround(name, invalid);
            return HostNameStatus.InvalidCharacter;
        }

        var labelStart = 0;
        while (true)
        {
            var length = name[labelStart..].IndexOf('.');
            var isLast = length < 0;
            if (isLast)
            {
                length = name.Length - labelStart;
            }

            problem = labelStart..(labelStart + length);
            if (length == 0)
            {
                return HostNameStatus.EmptyLabel;
            }

            if (length > MaxLabelLength)
            {
                return HostNameStatus.LabelTooLong;
            }

            if (strict && (name[labelStart] == '-' || name[labelStart + length - 1] == '-'))
            {
                return HostNameStatus.HyphenAtLabelEdge;
            }

            if (isLast)
            {
                problem = default;
                return HostNameStatus.Valid;
            }

            labelStart += length + 1;
        }
    }

    private static Range LabelAround(ReadOnlySpan<char> name, int index)
    {
        var start = name[..index].LastIndexOf('.') + 1;
        var end = name[index..].IndexOf('.');
        return start..(end < 0 ? name.Length : index + end);
    }
}
