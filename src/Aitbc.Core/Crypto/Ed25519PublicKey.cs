using System.Collections.Concurrent;
using NSec.Cryptography;

namespace Aitbc.Core.Crypto;

/// <summary>An Ed25519 public key (32 bytes), travelling as base64.</summary>
public sealed class Ed25519PublicKey : IEquatable<Ed25519PublicKey>
{
    public const int Size = 32;
    private const int MaxCachedKeys = 100_000;
    private static readonly ConcurrentDictionary<string, PublicKey> Imported = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Ed25519PublicKey> Parsed = new(StringComparer.Ordinal);
    private readonly byte[] _bytes;

    private Ed25519PublicKey(byte[] bytes, string base64)
    {
        _bytes = bytes;
        Base64 = base64;
    }

    public string Base64 { get; }

    public ReadOnlySpan<byte> Bytes => _bytes;

    private Address? _address;

    /// <summary>The account address of this key (computed once: every transaction asks for its sender's).</summary>
    public Address Address => _address ??= Address.FromPublicKey(this);

    /// <summary>CometBFT-style validator address: upper hex of the same 20 bytes the bech32 address carries.</summary>
    public string HexAddress => Convert.ToHexString(Hashing.Sha256(_bytes).AsSpan(0, Address.PayloadLength));

    public static Ed25519PublicKey FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new FormatException($"an Ed25519 public key is {Size} bytes, got {bytes.Length}");
        }
        var copy = bytes.ToArray();
        return new Ed25519PublicKey(copy, Convert.ToBase64String(copy));
    }

    public static bool TryParse(string? base64, out Ed25519PublicKey key)
    {
        key = null!;
        if (base64 is null || base64.Length != 44)
        {
            return false;
        }
        // The same few keys sign most transactions: reusing the parsed key keeps its address and imported
        // verification key, which would otherwise be rebuilt for every transaction.
        if (Parsed.TryGetValue(base64, out var known))
        {
            key = known;
            return true;
        }
        var buffer = new byte[Size];
        if (!Convert.TryFromBase64String(base64, buffer, out var written) || written != Size)
        {
            return false;
        }
        // Only the canonical spelling is accepted, so one key has one text form.
        if (!string.Equals(Convert.ToBase64String(buffer), base64, StringComparison.Ordinal))
        {
            return false;
        }
        key = new Ed25519PublicKey(buffer, base64);
        if (Parsed.Count >= MaxCachedKeys)
        {
            Parsed.Clear();
        }
        Parsed.TryAdd(base64, key);
        return true;
    }

    public static Ed25519PublicKey Parse(string base64) =>
        TryParse(base64, out var key) ? key : throw new FormatException("a public key must be 32 bytes in base64");

    /// <summary>Verifies an Ed25519 signature; false (never an exception) for a malformed key or signature.</summary>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != Ed25519KeyPair.SignatureSize)
        {
            return false;
        }
        var key = Imported.GetOrAdd(Base64, static (_, bytes) =>
        {
            PublicKey.TryImport(SignatureAlgorithm.Ed25519, bytes, KeyBlobFormat.RawPublicKey, out var imported);
            return imported!;
        }, _bytes);
        if (key is null)
        {
            Imported.TryRemove(Base64, out _);
            return false;
        }
        if (Imported.Count > MaxCachedKeys)
        {
            Imported.Clear();
        }
        return SignatureAlgorithm.Ed25519.Verify(key, message, signature);
    }

    public bool Equals(Ed25519PublicKey? other) => other is not null && string.Equals(Base64, other.Base64, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as Ed25519PublicKey);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Base64);

    public override string ToString() => Base64;
}
