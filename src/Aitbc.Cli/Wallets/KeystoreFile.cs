using System.Security.Cryptography;
using System.Text;
using Aitbc.Cli.Infrastructure;
using Aitbc.Core;
using Aitbc.Core.Crypto;

namespace Aitbc.Cli.Wallets;

/// <summary>
/// A wallet file: the address and public key in clear (so <c>list</c>, <c>address</c> and <c>balance</c> need no
/// password), and the Ed25519 seed encrypted with XChaCha20-Poly1305 under a key derived from the password by Argon2id.
/// </summary>
public sealed record KeystoreFile(int Version, string Name, string Address, string PubKey, KeystoreKdf Kdf, KeystoreCipher Cipher, DateTimeOffset CreatedAt)
{
    public const int CurrentVersion = 1;

    /// <summary>Seals <paramref name="key"/>'s seed under <paramref name="password"/>.</summary>
    public static KeystoreFile Seal(string name, Ed25519KeyPair key, string password, KdfParameters kdf, DateTimeOffset now)
    {
        var seed = key.ExportSeed();
        try
        {
            var (sealedKdf, cipher) = SeedSealing.Seal(seed, password, kdf, AssociatedData(key.Address.Value));
            return new KeystoreFile(CurrentVersion, name, key.Address.Value, key.PublicKey.Base64, sealedKdf, cipher, now);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Opens the seed with <paramref name="password"/>; a wrong password (or a tampered file) is a <see cref="CliAuthException"/>.</summary>
    public Ed25519KeyPair Unseal(string password)
    {
        if (Version != CurrentVersion)
        {
            throw new CliUsageException($"wallet '{Name}' uses an unsupported keystore format (version {Version}, {Kdf.Algorithm}/{Cipher.Algorithm})");
        }
        byte[]? seed;
        try
        {
            // Binding the address as associated data means a file whose address was edited fails to open, not signs for another.
            seed = SeedSealing.Open(Kdf, Cipher, password, AssociatedData(Address));
        }
        catch (InvalidDataException e)
        {
            throw new CliUsageException($"wallet '{Name}' cannot be opened: {e.Message}; import it again from its seed");
        }
        if (seed is null)
        {
            throw new CliAuthException($"wrong password for wallet '{Name}' (or the file was altered); try again, or use --password-file / AITBC_WALLET_PASSWORD");
        }
        try
        {
            var key = Ed25519KeyPair.FromSeed(seed);
            if (key.Address.Value != Address)
            {
                key.Dispose();
                throw new CliUsageException($"wallet '{Name}' is damaged: its seed does not match its address");
            }
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    public Address ParsedAddress => Core.Address.Parse(Address);

    private static byte[] AssociatedData(string address) => Encoding.UTF8.GetBytes("aitbc-keystore-v1:" + address);
}
