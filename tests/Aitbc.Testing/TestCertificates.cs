using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Aitbc.Testing;

/// <summary>
/// A private CA and server certificates it signs, written as PEM files the way an operator would hand them to the
/// services (<c>--tls-cert</c>, <c>--tls-key</c>) and the clients (<c>--ca-cert</c>, <c>AITBC_CA_CERT</c>).
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestCertificates(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        var request = new CertificateRequest("CN=AITBC Test CA", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        CaPath = Path.Combine(directory, "ca.pem");
        File.WriteAllText(CaPath, Ca.ExportCertificatePem());
    }

    public string Directory { get; }

    public X509Certificate2 Ca { get; }

    /// <summary>The CA's certificate (PEM): what clients are told to trust.</summary>
    public string CaPath { get; }

    /// <summary>
    /// Issues a server certificate for <paramref name="names"/> (IP addresses or DNS names; default 127.0.0.1 and
    /// localhost), signed by this CA (or self-signed), and writes <c>NAME.pem</c> and <c>NAME.key</c>.
    /// </summary>
    public (string CertificatePath, string KeyPath) IssueServer(string name, IReadOnlyList<string>? names = null, bool selfSigned = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var entry in names ?? ["127.0.0.1", "localhost"])
        {
            if (IPAddress.TryParse(entry, out var ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(entry);
            }
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var notBefore = DateTimeOffset.UtcNow.AddDays(-1);
        var notAfter = DateTimeOffset.UtcNow.AddDays(7);
        using var certificate = selfSigned
            ? request.CreateSelfSigned(notBefore, notAfter)
            : request.Create(Ca, notBefore, notAfter, RandomNumberGenerator.GetBytes(16));
        var certificatePath = Path.Combine(Directory, name + ".pem");
        var keyPath = Path.Combine(Directory, name + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return (certificatePath, keyPath);
    }

    public void Dispose()
    {
        Ca.Dispose();
        _caKey.Dispose();
    }
}
