using System.Text.Json;
using System.Text.Json.Serialization;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;

namespace Aitbc.Chain.Genesis;

/// <summary>An initial balance.</summary>
public sealed record GenesisAllocation(Address Address, Amount Amount);

/// <summary>
/// The chain's starting point: its id, the single validator (proof of authority), the coordinators allowed to
/// open and close escrow, the initial balances, and block production limits.
/// </summary>
public sealed record GenesisDocument(
    string ChainId,
    string GenesisTime,
    string ValidatorPubKey,
    IReadOnlyList<Address> Coordinators,
    IReadOnlyList<GenesisAllocation> Allocations,
    int BlockIntervalMs = 200,
    int MaxBlockTxs = 10_000,
    int MempoolMaxTxs = 100_000)
{
    [JsonIgnore]
    public Ed25519PublicKey Validator => Ed25519PublicKey.Parse(ValidatorPubKey);

    [JsonIgnore]
    public Amount TotalSupply => Allocations.Aggregate(Amount.Zero, (sum, a) => sum + a.Amount);

    public byte[] CanonicalBytes() => CanonicalJson.Serialize(this, WireJson.Options);

    public static GenesisDocument Parse(string json) =>
        JsonSerializer.Deserialize<GenesisDocument>(json, WireJson.Options)?.Validate() ?? throw new JsonException("genesis is null");

    /// <summary>Fails fast, with a message naming the field, on a genesis the chain could not run from.</summary>
    public GenesisDocument Validate()
    {
        if (string.IsNullOrWhiteSpace(ChainId) || ChainId.Length > 64)
        {
            throw new InvalidDataException("genesis chain_id must be 1 to 64 characters");
        }
        if (!Ed25519PublicKey.TryParse(ValidatorPubKey, out _))
        {
            throw new InvalidDataException("genesis validator_pub_key must be a base64 Ed25519 public key");
        }
        if (!DateTimeOffset.TryParse(GenesisTime, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out _))
        {
            throw new InvalidDataException("genesis genesis_time must be an RFC 3339 time");
        }
        if (BlockIntervalMs is < 1 or > 60_000)
        {
            throw new InvalidDataException("genesis block_interval_ms must be between 1 and 60000");
        }
        if (MaxBlockTxs is < 1 or > 100_000 || MempoolMaxTxs < MaxBlockTxs)
        {
            throw new InvalidDataException("genesis max_block_txs must be 1..100000 and mempool_max_txs at least that");
        }
        if (Allocations.GroupBy(a => a.Address).Any(g => g.Count() > 1))
        {
            throw new InvalidDataException("genesis allocations name an address twice");
        }
        _ = TotalSupply; // throws OverflowException when the allocations overflow
        return this;
    }
}
