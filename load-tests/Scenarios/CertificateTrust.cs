using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EgressLab.LoadTests.Scenarios;

/// <summary>
/// The certificate authorities a run trusts: the system store, plus the PEM files of <c>--ca-file</c> and
/// <c>SSL_CERT_FILE</c> (the lab's CA). Validation is never switched off: a certificate must chain to one of them and
/// match the host name.
/// </summary>
internal sealed class CertificateTrust : IDisposable
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    private CertificateTrust(X509Certificate2Collection extraRoots, IReadOnlyList<string> sources)
    {
        ExtraRoots = extraRoots;
        Sources = sources;
    }

    /// <summary>Trust the system store alone.</summary>
    public static CertificateTrust SystemOnly { get; } = new([], []);

    public X509Certificate2Collection ExtraRoots { get; }

    /// <summary>The files the extra roots came from.</summary>
    public IReadOnlyList<string> Sources { get; }

    /// <summary>The validation callback for TLS clients, or null when the system store's default validation is enough.</summary>
    public RemoteCertificateValidationCallback? Callback => ExtraRoots.Count == 0 ? null : Validate;

    public static bool TryLoad(string? caFile, Func<string, string?> environment, out CertificateTrust? trust, out string? error)
    {
        ArgumentNullException.ThrowIfNull(environment);
        trust = null;
        var roots = new X509Certificate2Collection();
        var sources = new List<string>();
        var files = new List<(string Path, string From)>();
        if (!string.IsNullOrWhiteSpace(caFile))
        {
            files.Add((caFile, "--ca-file"));
        }

        if (environment("SSL_CERT_FILE") is { Length: > 0 } certFile)
        {
            files.Add((certFile, "SSL_CERT_FILE"));
        }

        foreach (var (path, from) in files)
        {
            if (!File.Exists(path))
            {
                error = $"{from} '{path}': no such file; give the PEM file of the CA that signed the origin's certificate (the lab writes one and sets SSL_CERT_FILE to it).";
                return false;
            }

            var before = roots.Count;
            try
            {
                roots.ImportFromPemFile(path);
            }
            catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException)
            {
                error = $"{from} '{path}' cannot be read as PEM certificates ({exception.Message}); give a PEM file with one or more '-----BEGIN CERTIFICATE-----' blocks.";
                return false;
            }

            if (roots.Count == before)
            {
                error = $"{from} '{path}' holds no certificate; give a PEM file with one or more '-----BEGIN CERTIFICATE-----' blocks.";
                return false;
            }

            sources.Add(path);
        }

        trust = new CertificateTrust(roots, sources);
        error = null;
        return true;
    }

    /// <summary>Accepts what the system store accepts; else a certificate whose only fault is an unknown root, when it
    /// chains to one of the extra roots. A name mismatch or a missing certificate is never accepted.</summary>
    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is not X509Certificate2 leaf)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(ExtraRoots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        if (chain is not null)
        {
            // The intermediates the server sent.
            custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
        }

        return custom.Build(leaf);
    }

    public void Dispose()
    {
        foreach (var root in ExtraRoots)
        {
            root.Dispose();
        }
    }
}
