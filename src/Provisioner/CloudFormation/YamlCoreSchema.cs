using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EgressLab.Provisioner.CloudFormation;

/// <summary>
/// Types plain YAML scalars by the YAML 1.2 core schema (YAML 1.2.2 section 10.3.2), so <c>yes</c> stays a string
/// and <c>22</c> is a number, as they would be in the JSON form of the template.
/// </summary>
internal static partial class YamlCoreSchema
{
    /// <summary>
    /// The value a plain scalar stands for: JSON null, a boolean, a number, or the text itself. Numbers keep their
    /// digits (as JSON number text), so nothing is lost to a double. <c>.inf</c> and <c>.nan</c> are core-schema floats
    /// that JSON, and so CloudFormation, cannot hold; they stay text.
    /// </summary>
    public static JsonNode? Resolve(string plain)
    {
        switch (plain)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        return JsonNumberText(plain) is { } number ? JsonNode.Parse(number) : JsonValue.Create(plain);
    }

    /// <summary>True when a plain scalar with this text would be read as something other than a string.</summary>
    public static bool ResolvesToNonString(string plain) =>
        Resolve(plain) is not JsonValue value || value.GetValueKind() != JsonValueKind.String || IsSpecialFloat(plain);

    /// <summary>True for the core schema's infinities and not-a-number.</summary>
    public static bool IsSpecialFloat(string plain) => SpecialFloat().IsMatch(plain);

    /// <summary>The core-schema integer or float as JSON number text, or null when the text is not one.</summary>
    private static string? JsonNumberText(string plain)
    {
        if (plain.Length == 0 || !(char.IsAsciiDigit(plain[0]) || plain[0] is '-' or '+' or '.'))
        {
            return null;
        }

        if (HexInteger().IsMatch(plain))
        {
            return BigInteger.Parse(string.Concat("0", plain.AsSpan(2)), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        }

        if (OctalInteger().IsMatch(plain))
        {
            var value = BigInteger.Zero;
            foreach (var digit in plain.AsSpan(2))
            {
                value = (value * 8) + (digit - '0');
            }

            return value.ToString(CultureInfo.InvariantCulture);
        }

        if (!DecimalNumber().IsMatch(plain))
        {
            return null;
        }

        // JSON (RFC 8259 section 6) has no '+' sign, no leading zeros, and needs digits on both sides of the point.
        var negative = plain[0] == '-';
        var body = plain[0] is '-' or '+' ? plain[1..] : plain;
        var exponentAt = body.IndexOfAny(['e', 'E']);
        var mantissa = exponentAt < 0 ? body : body[..exponentAt];
        var exponent = exponentAt < 0 ? string.Empty : body[exponentAt..];
        var point = mantissa.IndexOf('.', StringComparison.Ordinal);
        var whole = (point < 0 ? mantissa : mantissa[..point]).TrimStart('0');
        var fraction = point < 0 ? null : mantissa[(point + 1)..];
        return string.Concat(
            negative ? "-" : string.Empty,
            whole.Length == 0 ? "0" : whole,
            fraction is null ? string.Empty : "." + (fraction.Length == 0 ? "0" : fraction),
            exponent);
    }

    [GeneratedRegex(@"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex DecimalNumber();

    [GeneratedRegex(@"^0x[0-9a-fA-F]+$", RegexOptions.CultureInvariant)]
    private static partial Regex HexInteger();

    [GeneratedRegex(@"^0o[0-7]+$", RegexOptions.CultureInvariant)]
    private static partial Regex OctalInteger();

    [GeneratedRegex(@"^([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$", RegexOptions.CultureInvariant)]
    private static partial Regex SpecialFloat();
}
