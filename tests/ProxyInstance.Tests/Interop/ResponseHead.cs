using System.Globalization;

namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>
/// The last HTTP response head in a client's dump of heads (curl's --dump-header file, wget's --server-response):
/// a dump also holds a CONNECT's 200 and a 100 Continue before the response that counts.
/// </summary>
internal static class ResponseHead
{
    /// <summary>Parses the last head in <paramref name="dump"/>, each of whose lines starts with <paramref name="indent"/>.</summary>
    public static (int? Status, Dictionary<string, string> Headers) ParseLast(string dump, string indent = "")
    {
        int? status = null;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in dump.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (!line.StartsWith(indent, StringComparison.Ordinal))
            {
                continue;
            }

            line = line[indent.Length..];
            if (line.StartsWith("HTTP/", StringComparison.Ordinal))
            {
                // A new head starts: "HTTP/1.1 200 OK".
                var parts = line.Split(' ', 3);
                status = parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : null;
                headers.Clear();
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (status is not null && colon > 0 && !line.StartsWith(' ') && !line.StartsWith('\t'))
            {
                var name = line[..colon];
                var value = line[(colon + 1)..].Trim();
                headers[name] = headers.TryGetValue(name, out var previous) ? $"{previous}, {value}" : value;
            }
        }

        return (status, headers);
    }
}
