using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Aitbc.Core.Json;

namespace Aitbc.Core.Crypto;

/// <summary>
/// The one key-file format every AITBC service writes, so a key made by any tool's keygen serves any other:
/// <c>{address, pub_key, priv_key}</c> with the seed in base64, or, sealed under a passphrase,
/// <c>{address, pub_key, kdf, cipher}</c> (Argon2id + XChaCha20-Poly1305, as wallets). Bytes only: where and how the
/// file is stored is <see cref="KeyFile"/>'s business.
/// </summary>
public static class KeyFileFormat
{
    private sealed record KeyFileJson(string Address, string PubKey, string? PrivKey = null, KeystoreKdf? Kdf = null, KeystoreCipher? Cipher = null);

    /// <summary>The key in clear (the file's 0600 mode is its only protection).</summary>
    public static byte[] Serialize(Ed25519KeyPair key)
    {
        var seed = key.ExportSeed();
        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(new KeyFileJson(key.Address.Value, key.PublicKey.Base64, Convert.ToBase64String(seed)), WireJson.Options);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>The key sealed under <paramref name="passphrase"/>: the file alone, copied or backed up, reveals nothing.</summary>
    public static byte[] Serialize(Ed25519KeyPair key, string passphrase, KdfParameters? kdf = null)
    {
        var seed = key.ExportSeed();
        try
        {
            var (sealedKdf, cipher) = SeedSealing.Seal(seed, passphrase, kdf ?? KdfParameters.Default, AssociatedData(key.Address.Value));
            return JsonSerializer.SerializeToUtf8Bytes(new KeyFileJson(key.Address.Value, key.PublicKey.Base64, Kdf: sealedKdf, Cipher: cipher), WireJson.Options);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Whether the bytes hold a sealed key (one that needs a passphrase).</summary>
    public static bool IsSealed(ReadOnlySpan<byte> json) => Read(json, "key file").Cipher is not null;

    /// <summary>
    /// Reads a key file's bytes; <paramref name="source"/> names the file in error messages. A sealed file needs
    /// <paramref name="passphrase"/>; a clear one ignores it.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a key file, damaged, sealed without a passphrase given, or the wrong passphrase.</exception>
    public static Ed25519KeyPair Parse(ReadOnlySpan<byte> json, string source, string? passphrase = null)
    {
        var file = Read(json, source);
        byte[] seed;
        if (file.PrivKey is not null)
        {
            try
            {
                seed = Convert.FromBase64String(file.PrivKey);
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{source} is not a key file ({e.Message})");
            }
        }
        else if (file.Kdf is not null && file.Cipher is not null)
        {
            if (passphrase is null)
            {
                throw new InvalidDataException($"{source} is sealed with a passphrase: set {KeyFile.PassphraseVariable} (or {KeyFile.PassphraseFileVariable}) for this service");
            }
            try
            {
                seed = SeedSealing.Open(file.Kdf, file.Cipher, passphrase, AssociatedData(file.Address))
                    ?? throw new InvalidDataException($"{source}: wrong passphrase (or the file was altered)");
            }
            catch (InvalidDataException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{source} is damaged: {e.Message}", e);
            }
        }
        else
        {
            throw new InvalidDataException($"{source} is not a key file (neither priv_key nor kdf and cipher)");
        }
        try
        {
            if (seed.Length != 32)
            {
                throw new InvalidDataException($"{source}: the private key is {seed.Length} bytes, not 32");
            }
            var key = Ed25519KeyPair.FromSeed(seed);
            if (key.PublicKey.Base64 != file.PubKey)
            {
                key.Dispose();
                throw new InvalidDataException($"{source}: priv_key does not match pub_key");
            }
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    private static KeyFileJson Read(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<KeyFileJson>(json, WireJson.Options) ?? throw new InvalidDataException($"{source} is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source} is not a key file ({e.Message})");
        }
    }

    private static byte[] AssociatedData(string address) => Encoding.UTF8.GetBytes("aitbc-keyfile-v1:" + address);
}
