using System.Security.Cryptography;
using System.Text;

namespace Aitbc.Coordinator.Auth;

/// <summary>
/// API key text: <c>ak_{id}.{secret}</c>, the id 12 hex digits to find the row, the secret 32 random bytes in base64url.
/// Only SHA-256 of the whole text is stored; a presented key is hashed and compared in constant time.
/// </summary>
public static class ApiKeys
{
    /// <summary>The row of the bootstrap admin key, whose text (from the command line) has no id in it.</summary>
    public const string BootstrapAdminId = "bootstrap-admin";

    private const string Prefix = "ak_";

    /// <summary>A fresh key: its row id and the text shown once to its owner.</summary>
    public static (string Id, string Key) Generate()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (id, $"{Prefix}{id}.{secret}");
    }

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The row id a presented key names; keys without one can only be the bootstrap admin key.</summary>
    public static string IdOf(string key)
    {
        if (key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            var dot = key.IndexOf('.', StringComparison.Ordinal);
            if (dot == Prefix.Length + 12)
            {
                return key[Prefix.Length..dot];
            }
        }
        return BootstrapAdminId;
    }

    /// <summary>Whether <paramref name="key"/> hashes to <paramref name="storedHash"/>, in time independent of where they differ.</summary>
    public static bool Matches(string key, string storedHash)
    {
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        Span<byte> stored = stackalloc byte[32];
        return storedHash.Length == 64
            && Convert.FromHexString(storedHash, stored, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == 32
            && CryptographicOperations.FixedTimeEquals(presented, stored);
    }
}
