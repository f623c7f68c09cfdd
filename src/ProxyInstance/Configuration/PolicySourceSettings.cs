using System.Net;
using System.Text.RegularExpressions;

namespace EgressLab.ProxyInstance.Configuration;

/// <summary>The validated <c>PolicySource</c>: the Systems Manager parameter that holds the policy, and how to poll it.</summary>
/// <param name="ParameterName">The parameter's name, e.g. <c>/egress/proxy/policy</c>.</param>
/// <param name="Region">The AWS region; <see langword="null"/> leaves it to the SDK's region chain.</param>
/// <param name="PollInterval">How often the parameter's version is checked.</param>
/// <param name="Endpoint">The Systems Manager endpoint to use instead of the region's; <see langword="null"/> for the region's.</param>
internal sealed partial record PolicySourceSettings(string ParameterName, string? Region, TimeSpan PollInterval, Uri? Endpoint)
{
    /// <summary>The default poll interval: one minute.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The shortest poll interval accepted. GetParameter shares an account-wide throughput limit (40 requests per
    /// second by default) with every other caller, so a fleet of proxies polling every second could throttle them all.
    /// </summary>
    public static readonly TimeSpan MinPollInterval = TimeSpan.FromSeconds(5);

    /// <summary>The longest poll interval accepted.</summary>
    public static readonly TimeSpan MaxPollInterval = TimeSpan.FromDays(1);

    /// <summary>Systems Manager's limit on a parameter name, ARN included.</summary>
    private const int MaxNameLength = 1011;

    /// <summary>Systems Manager's limit on the levels of a hierarchical name.</summary>
    private const int MaxHierarchyLevels = 15;

    public string Describe() => $"SSM parameter '{ParameterName}'{(Region is null ? "" : $" in {Region}")}";

    /// <summary>
    /// Validates <paramref name="options"/>, adding every problem to <paramref name="errors"/>. <paramref name="settings"/>
    /// is <see langword="null"/> when the section is absent (the policy comes from the file) or has errors.
    /// </summary>
    public static bool TryCreate(PolicySourceOptions options, string path, List<ConfigError> errors, out PolicySourceSettings? settings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(errors);
        settings = null;
        var before = errors.Count;
        if (string.IsNullOrEmpty(options.SsmParameter))
        {
            if (options.Region is { Length: > 0 } || options.PollInterval is not null || options.Endpoint is { Length: > 0 })
            {
                errors.Add(new ConfigError($"{path}:SsmParameter", "PolicySource has settings but no parameter. Name the Systems Manager parameter that holds the policy, as in \"SsmParameter\": \"/egress/proxy/policy\", or remove PolicySource to take the policy from this file."));
            }

            return errors.Count == before;
        }

        var name = options.SsmParameter;
        if (NameProblem(name) is { } problem)
        {
            errors.Add(new ConfigError($"{path}:SsmParameter", $"'{name}' is not a valid parameter name: {problem}"));
        }

        var region = options.Region is { Length: > 0 } ? options.Region : null;
        if (region is not null && !RegionName().IsMatch(region))
        {
            errors.Add(new ConfigError($"{path}:Region", $"'{region}' is not an AWS region name. Write it as \"eu-west-1\", or leave Region out to use the SDK's region (AWS_REGION, or the instance's own region on EC2)."));
        }

        var interval = options.PollInterval ?? DefaultPollInterval;
        if (interval < MinPollInterval || interval > MaxPollInterval)
        {
            errors.Add(new ConfigError($"{path}:PollInterval", $"'{interval}' is out of range: use a duration from 00:00:05 to 1.00:00:00 (one day), such as \"00:01:00\"."));
        }

        Uri? endpoint = null;
        if (options.Endpoint is { Length: > 0 } endpointText)
        {
            if (!Uri.TryCreate(endpointText, UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("https" or "http")
                || endpoint.PathAndQuery != "/" || endpoint.UserInfo.Length > 0)
            {
                errors.Add(new ConfigError($"{path}:Endpoint", $"'{endpointText}' is not an endpoint URL. Write it as \"https://ssm.eu-west-1.amazonaws.com\" (scheme and host, no path), or leave it out to use the region's endpoint."));
                endpoint = null;
            }
            else if (endpoint.Scheme == "http" && !IsLoopback(endpoint))
            {
                errors.Add(new ConfigError($"{path}:Endpoint", $"'{endpointText}' is plain HTTP to a host that is not loopback: a SecureString's decrypted value would cross the network unencrypted. Use https://, or plain http only for a stand-in on 127.0.0.1."));
                endpoint = null;
            }

            if (region is null)
            {
                errors.Add(new ConfigError($"{path}:Region", "an Endpoint needs a Region to sign requests for. Set Region, such as \"eu-west-1\"."));
            }
        }

        if (errors.Count > before)
        {
            return false;
        }

        settings = new PolicySourceSettings(name, region, interval, endpoint);
        return true;
    }

    // https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html ("Requirements and
    // constraints for parameter names").
    private static string? NameProblem(string name)
    {
        if (name.Length > MaxNameLength)
        {
            return $"it is {name.Length} characters long; Systems Manager allows at most {MaxNameLength}.";
        }

        if (!NameCharacters().IsMatch(name))
        {
            return "use only letters, digits and . - _ and / between the levels of a hierarchy, as in /egress/proxy/policy.";
        }

        var trimmed = name.TrimStart('/');
        if (trimmed.StartsWith("aws", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("ssm", StringComparison.OrdinalIgnoreCase))
        {
            return "names may not begin with 'aws' or 'ssm', which Systems Manager reserves.";
        }

        if (name.Contains('/', StringComparison.Ordinal))
        {
            if (name[0] != '/' || name.EndsWith('/') || name.Contains("//", StringComparison.Ordinal))
            {
                return "a hierarchical name starts with / and has a name between every two /, as in /egress/proxy/policy.";
            }

            if (name.Count(c => c == '/') > MaxHierarchyLevels)
            {
                return $"Systems Manager allows at most {MaxHierarchyLevels} levels.";
            }
        }

        return null;
    }

    private static bool IsLoopback(Uri endpoint) =>
        endpoint.IsLoopback || (IPAddress.TryParse(endpoint.IdnHost, out var address) && IPAddress.IsLoopback(address));

    [GeneratedRegex("^[A-Za-z0-9_./-]+$")]
    private static partial Regex NameCharacters();

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex RegionName();
}

/// <summary>One version of the policy parameter, as read: the JSON text of the <c>Policy</c> section.</summary>
/// <param name="ParameterName">The parameter's name.</param>
/// <param name="Version">The parameter's version; every change of the value gets a new one.</param>
/// <param name="Json">The parameter's (decrypted) value.</param>
internal sealed record PolicyDocument(string ParameterName, long Version, string Json)
{
    public string Describe() => $"SSM parameter '{ParameterName}' version {Version}";
}
