namespace EgressLab.ProxyInstance.Configuration;

/// <summary>One problem found while validating configuration: where it is and what to do about it.</summary>
/// <param name="Path">Configuration key path, e.g. <c>Proxy:Policy:Rules:2:Domains:0</c>.</param>
/// <param name="Message">What is wrong and how to fix it.</param>
internal readonly record struct ConfigError(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}
