using System.Globalization;
using System.Text;

namespace EgressLab.ProxyInstance.Configuration;

/// <summary>Turns a configuration path (<c>Proxy:Policy:Rules:0:Domains:1</c>) into the JSON path users see (<c>$.Proxy.Policy.Rules[0].Domains[1]</c>).</summary>
internal static class ConfigPath
{
    public static string ToJsonPath(string configPath)
    {
        ArgumentNullException.ThrowIfNull(configPath);
        if (configPath.Length == 0 || configPath == "$")
        {
            return "$";
        }

        var builder = new StringBuilder("$");
        foreach (var segment in configPath.Split(':'))
        {
            if (segment.Length > 0 && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                builder.Append('[').Append(segment).Append(']');
            }
            else if (segment.Contains('.', StringComparison.Ordinal) || segment.Contains(' ', StringComparison.Ordinal))
            {
                builder.Append("['").Append(segment).Append("']");
            }
            else
            {
                builder.Append('.').Append(segment);
            }
        }

        return builder.ToString();
    }
}
