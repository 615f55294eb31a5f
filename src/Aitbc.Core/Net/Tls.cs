using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Aitbc.Core.Net;

/// <summary>
/// TLS for every AITBC service and client, in one place. A service serves HTTPS when it is given a certificate (PEM
/// certificate + PEM key, or a PKCS#12 file); a client trusts the system's roots and, when <see cref="CaCertificateVariable"/>
/// (or the CLI's <c>--ca-cert</c>) names a PEM file, also the certificates in it — a private CA or a self-signed
/// server certificate — so a network can run on its own certificates without touching the system trust store.
/// </summary>
public static class Tls
{
    /// <summary>PEM file of extra certificates every AITBC client (CLI, coordinator, miner, follower node) trusts.</summary>
    public const string CaCertificateVariable = "AITBC_CA_CERT";

    /// <summary>
    /// Loads a server certificate with its private key: <paramref name="certificatePath"/> is a PEM certificate (chain)
    /// with <paramref name="keyPath"/> its PEM key (or null when the key is in the same file), or a .pfx/.p12 file.
    /// </summary>
    public static X509Certificate2 LoadServerCertificate(string certificatePath, string? keyPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(certificatePath);
        if (!File.Exists(certificatePath))
        {
            throw new FileNotFoundException($"TLS certificate file {certificatePath} does not exist", certificatePath);
        }
        if (keyPath is not null && !File.Exists(keyPath))
        {
            throw new FileNotFoundException($"TLS key file {keyPath} does not exist", keyPath);
        }
        var extension = Path.GetExtension(certificatePath).ToLowerInvariant();
        X509Certificate2 certificate;
        try
        {
            certificate = extension is ".pfx" or ".p12"
                ? X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password: null)
                : X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            var files = keyPath is null ? certificatePath : $"{certificatePath} with key {keyPath}";
            throw new InvalidDataException($"TLS certificate {files} cannot be loaded (a PEM certificate and its PEM key, or a .pfx): {e.Message}", e);
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new InvalidDataException($"TLS certificate {certificatePath} has no private key (give the key file too)");
        }
        return certificate;
    }

    /// <summary>The CA file named by <see cref="CaCertificateVariable"/>, or null.</summary>
    public static string? CaCertificatePathFromEnvironment() =>
        Environment.GetEnvironmentVariable(CaCertificateVariable) is { Length: > 0 } path ? path : null;

    /// <summary>
    /// A connection handler that trusts the system's roots plus the certificates in <paramref name="caCertificatePath"/>
    /// (default: <see cref="CaCertificateVariable"/>); with neither, the platform's default validation.
    /// </summary>
    public static SocketsHttpHandler CreateClientHandler(string? caCertificatePath = null)
    {
        var handler = new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60) };
        Trust(handler, caCertificatePath ?? CaCertificatePathFromEnvironment());
        return handler;
    }

    /// <summary>Makes <paramref name="handler"/> also trust the certificates in <paramref name="caCertificatePath"/>; null changes nothing.</summary>
    public static void Trust(SocketsHttpHandler handler, string? caCertificatePath)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (caCertificatePath is null)
        {
            return;
        }
        var roots = LoadCaCertificates(caCertificatePath);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, roots);
    }

    /// <summary>The certificates of a PEM bundle; a missing, empty or unreadable file is a configuration error, said plainly.</summary>
    public static X509Certificate2Collection LoadCaCertificates(string caCertificatePath)
    {
        if (!File.Exists(caCertificatePath))
        {
            throw new FileNotFoundException($"CA certificate file {caCertificatePath} does not exist", caCertificatePath);
        }
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(caCertificatePath);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new InvalidDataException($"CA certificate file {caCertificatePath} is not a PEM certificate bundle: {e.Message}", e);
        }
        if (roots.Count == 0)
        {
            throw new InvalidDataException($"CA certificate file {caCertificatePath} holds no PEM certificate");
        }
        return roots;
    }

    /// <summary>
    /// Accepts what the platform accepts; otherwise only a chain error (never a name mismatch or a missing certificate)
    /// that a chain built on <paramref name="roots"/> alone resolves.
    /// </summary>
    internal static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        if (certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        // A private CA publishes no revocation lists; expiry and signatures are still checked.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
