using System.Security.Cryptography;
using System.Text;

namespace Aitbc.Core.Crypto;

/// <summary>SHA-256 in the two spellings the protocol uses: upper hex for tx/block hashes, lower hex for content hashes.</summary>
public static class Hashing
{
    public static byte[] Sha256(ReadOnlySpan<byte> data) => SHA256.HashData(data);

    public static string Sha256UpperHex(ReadOnlySpan<byte> data) => Convert.ToHexString(SHA256.HashData(data));

    /// <summary>Content hash (payload_hash, prompt_hash, result_hash): lower-case hex of SHA-256 over the UTF-8 text.</summary>
    public static string ContentHash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static bool IsContentHash(string? text) =>
        text is { Length: 64 } && text.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    public static bool IsUpperHexHash(string? text) =>
        text is { Length: 64 } && text.All(c => c is (>= '0' and <= '9') or (>= 'A' and <= 'F'));
}
