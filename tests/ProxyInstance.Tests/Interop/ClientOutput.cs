using System.Text.Json;

namespace EgressLab.ProxyInstance.Tests.Interop;

/// <summary>
/// The one-line JSON the test's own client programs (Python, Go) print on success:
/// <c>{"status": 200, "headers": {"Name": "value", ...}}</c>; the body goes to a file.
/// </summary>
internal static class ClientOutput
{
    public static ClientResponse Parse(ClientProcessResult result)
    {
        using var json = JsonDocument.Parse(result.Stdout);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in json.RootElement.GetProperty("headers").EnumerateObject())
        {
            headers[header.Name] = header.Value.GetString() ?? string.Empty;
        }

        return new ClientResponse(json.RootElement.GetProperty("status").GetInt32(), headers, result.ToString());
    }
}
