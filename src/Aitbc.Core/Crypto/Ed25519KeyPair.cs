using NSec.Cryptography;

namespace Aitbc.Core.Crypto;

/// <summary>An Ed25519 signing key (from a 32-byte seed, RFC 8032) and its public key.</summary>
public sealed class Ed25519KeyPair : IDisposable
{
    public const int SeedSize = 32;
    public const int SignatureSize = 64;
    private readonly Key _key;

    private Ed25519KeyPair(Key key)
    {
        _key = key;
        PublicKey = Ed25519PublicKey.FromBytes(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    public Ed25519PublicKey PublicKey { get; }

    public Address Address => PublicKey.Address;

    public static Ed25519KeyPair Generate()
    {
        Span<byte> seed = stackalloc byte[SeedSize];
        System.Security.Cryptography.RandomNumberGenerator.Fill(seed);
        return FromSeed(seed);
    }

    public static Ed25519KeyPair FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedSize)
        {
            throw new FormatException($"an Ed25519 seed is {SeedSize} bytes, got {seed.Length}");
        }
        var key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey,
            new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return new Ed25519KeyPair(key);
    }

    /// <summary>The 32-byte seed, for writing a key file; handle as a secret.</summary>
    public byte[] ExportSeed() => _key.Export(KeyBlobFormat.RawPrivateKey);

    public byte[] Sign(ReadOnlySpan<byte> message) => SignatureAlgorithm.Ed25519.Sign(_key, message);

    public void Dispose() => _key.Dispose();
}
