namespace Aitbc.Core.Net;

/// <summary>
/// A service's HTTPS certificate: a PEM certificate (chain) and its PEM key, or a .pfx/.p12 file with <see cref="KeyPath"/>
/// null. Every service reads it from <c>--tls-cert</c>/<c>--tls-key</c> or <see cref="CertificateVariable"/>/<see cref="KeyVariable"/>.
/// </summary>
public sealed record TlsServerSettings(string CertificatePath, string? KeyPath)
{
    public const string CertificateVariable = "AITBC_TLS_CERT";
    public const string KeyVariable = "AITBC_TLS_KEY";

    /// <summary>Settings from the given option values, falling back to the environment; null when no certificate is named.</summary>
    public static TlsServerSettings? From(string? certificatePath, string? keyPath)
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var certificate = certificatePath ?? Env(CertificateVariable);
        var key = keyPath ?? Env(KeyVariable);
        if (certificate is null)
        {
            return key is null ? null : throw new ArgumentException($"a TLS key was given without a certificate (--tls-cert or {CertificateVariable})");
        }
        return new TlsServerSettings(certificate, key);
    }

    /// <summary>Loads the certificate now, so a service with a bad certificate fails at start, naming the file.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2 Load() => Tls.LoadServerCertificate(CertificatePath, KeyPath);
}
