using System.Globalization;
using System.Text.Json;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;

namespace Aitbc.Core.Blocks;

/// <summary>
/// A block header. <c>app_hash</c> commits to the state after the previous block (CometBFT's convention);
/// hashes are upper hex, <c>proposer_address</c> is the proposer's 20-byte address in upper hex, <c>time</c> RFC 3339 UTC.
/// </summary>
public sealed record BlockHeader(
    string ChainId,
    long Height,
    string Time,
    string LastBlockHash,
    string DataHash,
    string AppHash,
    string ProposerAddress)
{
    public byte[] CanonicalBytes() => CanonicalJson.Serialize(this, WireJson.Options);

    /// <summary>Block hash = SHA-256(JCS(header)), upper hex.</summary>
    public string Hash() => Hashing.Sha256UpperHex(CanonicalBytes());

    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public static byte[] ComputeDataHash(IReadOnlyList<byte[]> txWireBytes) =>
        Merkle.Root(txWireBytes.Select(tx => Hashing.Sha256(tx)).ToList());

    public static BlockHeader FromJson(JsonElement element) =>
        element.Deserialize<BlockHeader>(WireJson.Options) ?? throw new JsonException("header is null");
}
