namespace EgressLab.Provisioner.Topology;

/// <summary>Host-name syntax for the lab's DNS names (RFC 1035 section 2.3.4 sizes, RFC 1123 section 2.1 labels).</summary>
internal static class DnsName
{
    /// <summary>Returns what is wrong with <paramref name="name"/>, or null when it is a valid lower-case DNS name.</summary>
    /// <param name="allowLeadingDot">Whether a leading dot, meaning "this domain and its subdomains", is allowed.</param>
    public static string? Problem(string name, bool allowLeadingDot)
    {
        if (name.StartsWith("*.", StringComparison.Ordinal))
        {
            return allowLeadingDot
                ? $"'{name}' uses a wildcard; write '{name[1..]}' (a leading dot) for a domain and its subdomains"
                : $"'{name}' uses a wildcard, which is not allowed here";
        }

        var body = name;
        if (body.StartsWith('.'))
        {
            if (!allowLeadingDot)
            {
                return $"'{name}' starts with a dot, which is not allowed here";
            }

            body = body[1..];
        }

        if (body.Length == 0)
        {
            return "the name is empty";
        }

        if (body.Length > 253)
        {
            return $"'{name}' is {body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)} characters long; DNS names are at most 253";
        }

        if (body.EndsWith('.'))
        {
            return $"'{name}' ends with a dot; write it without the trailing dot";
        }

        foreach (var label in body.Split('.'))
        {
            if (label.Length == 0)
            {
                return $"'{name}' has an empty label (two dots in a row)";
            }

            if (label.Length > 63)
            {
                return $"'{name}' has a label longer than 63 characters";
            }

            if (label.Any(char.IsAsciiLetterUpper))
            {
                return $"'{name}' has upper-case letters; write DNS names in lower case";
            }

            if (!label.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                return $"'{name}' has a character other than a-z, 0-9, '-' and '.'";
            }

            if (label.StartsWith('-') || label.EndsWith('-'))
            {
                return $"'{name}' has a label that starts or ends with '-'";
            }
        }

        return null;
    }
}
