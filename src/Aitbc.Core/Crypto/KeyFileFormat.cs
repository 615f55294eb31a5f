using System.Text.Json;
using Aitbc.Core.Json;

namespace Aitbc.Core.Crypto;

/// <summary>
/// The one key-file format every AITBC service writes (<c>{address, pub_key, priv_key}</c>, seed in base64), so a key
/// made by any tool's keygen serves any other. Bytes only: where and how the file is stored is the caller's business.
/// </summary>
public static class KeyFileFormat
{
    private sealed record KeyFile(string Address, string PubKey, string PrivKey);

    public static byte[] Serialize(Ed25519KeyPair key) =>
        JsonSerializer.SerializeToUtf8Bytes(new KeyFile(key.Address.Value, key.PublicKey.Base64, Convert.ToBase64String(key.ExportSeed())), WireJson.Options);

    /// <summary>Reads a key file's bytes; <paramref name="source"/> names the file in error messages.</summary>
    public static Ed25519KeyPair Parse(ReadOnlySpan<byte> json, string source)
    {
        KeyFile file;
        byte[] seed;
        try
        {
            file = JsonSerializer.Deserialize<KeyFile>(json, WireJson.Options) ?? throw new InvalidDataException($"{source} is empty");
            seed = Convert.FromBase64String(file.PrivKey);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new InvalidDataException($"{source} is not a key file ({e.Message})");
        }
        var key = Ed25519KeyPair.FromSeed(seed);
        if (key.PublicKey.Base64 != file.PubKey)
        {
            key.Dispose();
            throw new InvalidDataException($"{source}: priv_key does not match pub_key");
        }
        return key;
    }
}
