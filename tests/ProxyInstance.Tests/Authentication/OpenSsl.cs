using System.Diagnostics;
using System.Text;

namespace EgressLab.ProxyInstance.Tests.Authentication;

/// <summary>Runs the <c>openssl</c> command line, an independent SHA-crypt implementation to cross-check against.</summary>
internal static class OpenSsl
{
    private static readonly Lazy<string?> ExecutablePath = new(Find);

    /// <summary>Skips the calling test, visibly, when openssl is not on PATH.</summary>
    public static string RequirePath()
    {
        var path = ExecutablePath.Value;
        Requirements.SkipUnless(path is not null, "openssl is not on PATH; the cross-check against an independent implementation did not run.");
        return path!;
    }

    /// <summary>Runs <c>openssl passwd</c> with <paramref name="arguments"/>, the password fed on stdin, and returns its one output line.</summary>
    public static async Task<string> PasswdAsync(string password, CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo(RequirePath())
        {
            RedirectStandardInput = true,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("passwd");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("-stdin");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start.");
        await process.StandardInput.WriteAsync(password.AsMemory(), cancellationToken);
        await process.StandardInput.WriteAsync("\n".AsMemory(), cancellationToken);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        Assert.True(process.ExitCode == 0, $"openssl passwd failed ({process.ExitCode}): {error}");
        return output.TrimEnd('\n', '\r');
    }

    private static string? Find()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "openssl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
