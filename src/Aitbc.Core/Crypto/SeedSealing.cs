using System.Security.Cryptography;
using NSec.Cryptography;

namespace Aitbc.Core.Crypto;

/// <summary>Argon2id cost. The default is moderate (64 MiB, 3 passes: a fraction of a second); tests pass cheap values.</summary>
public sealed record KdfParameters(int MemoryKib, int Iterations)
{
    public static KdfParameters Default { get; } = new(64 * 1024, 3);
}

/// <summary>The KDF section of a sealed key: Argon2id's cost and salt.</summary>
public sealed record KeystoreKdf(string Algorithm, int MemoryKib, int Iterations, int Parallelism, string Salt);

/// <summary>The cipher section of a sealed key: the seed encrypted with the derived key.</summary>
public sealed record KeystoreCipher(string Algorithm, string Nonce, string Ciphertext);

/// <summary>
/// An Ed25519 seed sealed under a password: XChaCha20-Poly1305 with a key derived by Argon2id, bound to associated
/// data (the key's address) so an edited file fails to open rather than signing for someone else. Wallets and the
/// services' key files share it.
/// </summary>
public static class SeedSealing
{
    public const string KdfName = "argon2id";
    public const string CipherName = "xchacha20poly1305";

    public static (KeystoreKdf Kdf, KeystoreCipher Cipher) Seal(ReadOnlySpan<byte> seed, string password, KdfParameters kdf, ReadOnlySpan<byte> associatedData)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(kdf);
        var salt = RandomNumberGenerator.GetBytes(16);
        var aead = AeadAlgorithm.XChaCha20Poly1305;
        var nonce = RandomNumberGenerator.GetBytes(aead.NonceSize);
        using var sealingKey = DeriveKey(password, salt, kdf.MemoryKib, kdf.Iterations);
        var ciphertext = aead.Encrypt(sealingKey, nonce, associatedData, seed);
        return (new KeystoreKdf(KdfName, kdf.MemoryKib, kdf.Iterations, 1, Convert.ToBase64String(salt)),
            new KeystoreCipher(CipherName, Convert.ToBase64String(nonce), Convert.ToBase64String(ciphertext)));
    }

    /// <summary>The seed; null when the password is wrong or the sealed bytes or associated data were altered.</summary>
    /// <exception cref="InvalidDataException">An unsupported algorithm or cost, or fields that are not base64.</exception>
    public static byte[]? Open(KeystoreKdf kdf, KeystoreCipher cipher, string password, ReadOnlySpan<byte> associatedData)
    {
        ArgumentNullException.ThrowIfNull(kdf);
        ArgumentNullException.ThrowIfNull(cipher);
        ArgumentNullException.ThrowIfNull(password);
        // Bounds on the cost keep a hostile file from asking for terabytes of memory or years of passes.
        if (kdf.Algorithm != KdfName || cipher.Algorithm != CipherName || kdf.Parallelism != 1
            || kdf.MemoryKib is < 8 or > 4 * 1024 * 1024 || kdf.Iterations is < 1 or > 100)
        {
            throw new InvalidDataException($"unsupported sealing ({kdf.Algorithm} {kdf.MemoryKib} KiB × {kdf.Iterations}, parallelism {kdf.Parallelism} / {cipher.Algorithm})");
        }
        byte[] salt, nonce, ciphertext;
        try
        {
            salt = Convert.FromBase64String(kdf.Salt);
            nonce = Convert.FromBase64String(cipher.Nonce);
            ciphertext = Convert.FromBase64String(cipher.Ciphertext);
        }
        catch (FormatException)
        {
            throw new InvalidDataException("the salt, nonce or ciphertext is not base64");
        }
        if (nonce.Length != AeadAlgorithm.XChaCha20Poly1305.NonceSize || salt.Length < 8)
        {
            throw new InvalidDataException("the salt or nonce has the wrong length");
        }
        using var sealingKey = DeriveKey(password, salt, kdf.MemoryKib, kdf.Iterations);
        return AeadAlgorithm.XChaCha20Poly1305.Decrypt(sealingKey, nonce, associatedData, ciphertext);
    }

    private static Key DeriveKey(string password, byte[] salt, int memoryKib, int iterations)
    {
        var parameters = new Argon2Parameters { DegreeOfParallelism = 1, MemorySize = memoryKib, NumberOfPasses = iterations };
        return PasswordBasedKeyDerivationAlgorithm.Argon2id(parameters).DeriveKey(password, salt, AeadAlgorithm.XChaCha20Poly1305);
    }
}
