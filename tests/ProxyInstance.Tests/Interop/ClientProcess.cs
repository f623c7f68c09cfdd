using System.Diagnostics;

namespace EgressLab.ProxyInstance.Tests.Interop;

internal sealed record ClientProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Runs a real client program with an environment it cannot take a proxy, a CA bundle or a config file from,
/// bounded by a timeout after which it is killed with its children.
/// </summary>
internal static class ClientProcess
{
    /// <summary>The default bound on one client run: a client that talks to loopback and takes longer has hung.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    // Variables that would point a client at another proxy, CA or config file. Every *_proxy variable goes too.
    private static readonly string[] Scrubbed =
    [
        "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "CURL_HOME", "WGETRC", "SYSTEMWGETRC",
        "NETRC", "XDG_CONFIG_HOME", "LANGUAGE", "SSH_ASKPASS",
    ];

    // Prefixes of tool settings (GIT_DIR, GOFLAGS, PYTHONPATH, ...) the test sets itself where it needs them.
    private static readonly string[] ScrubbedPrefixes = ["GIT_", "GO", "PYTHON", "CGO_"];

    /// <summary>
    /// Runs <paramref name="program"/> (a path) in <paramref name="home"/>, which is also its HOME, so no dotfile
    /// of the machine's user applies. Only <paramref name="environment"/> is added to the scrubbed environment;
    /// no_proxy is set empty, so the proxy a test gives is used for every name.
    /// </summary>
    public static async Task<ClientProcessResult> RunAsync(string program, IEnumerable<string> arguments, string home,
        IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = home,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var name in info.Environment.Keys.ToList())
        {
            if (name.EndsWith("_proxy", StringComparison.OrdinalIgnoreCase)
                || Scrubbed.Contains(name, StringComparer.Ordinal)
                || ScrubbedPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
            {
                info.Environment.Remove(name);
            }
        }

        info.Environment["HOME"] = home;
        info.Environment["no_proxy"] = string.Empty;
        info.Environment["NO_PROXY"] = string.Empty;
        // Messages in English, so a test can read a client's reason for failing.
        info.Environment["LC_ALL"] = "C";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var bound = timeout ?? DefaultTimeout;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start.");
        // No client may wait for a password or a confirmation on its standard input.
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(bound, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', info.ArgumentList)} did not finish within {bound}; it was killed.", ex);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        // The output ends with the process, unless something it started still holds it open.
        var output = TimeSpan.FromSeconds(10);
        return new ClientProcessResult(process.ExitCode, await stdout.WaitAsync(output, cancellationToken), await stderr.WaitAsync(output, cancellationToken));
    }
}
