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
/// open and close escrow, the initial balances, block production limits, and how long unstaked stake unbonds.
/// </summary>
/// <param name="UnbondingMs">
/// How long, in block time, stake taken off by <c>unstake</c> stays held (and slashable) before it returns to the
/// miner's balance. It should outlast the longest job a miner can run on stake it had bonded plus the time a receipt
/// can still be challenged: the chain learns a job's miner only from its receipt, so this delay is what keeps a miner's
/// stake behind the jobs it ran.
/// </param>
public sealed record GenesisDocument(
    string ChainId,
    string GenesisTime,
    string ValidatorPubKey,
    IReadOnlyList<Address> Coordinators,
    IReadOnlyList<GenesisAllocation> Allocations,
    int BlockIntervalMs = 200,
    int MaxBlockTxs = 10_000,
    int MempoolMaxTxs = 100_000,
    long UnbondingMs = GenesisDocument.DefaultUnbondingMs)
{
    /// <summary>48 hours: a coordinator's longest job deadline (24 h by default) and a day more to challenge its receipt.</summary>
    public const long DefaultUnbondingMs = 48L * 3600 * 1000;

    public const long MaxUnbondingMs = 365L * 24 * 3600 * 1000;

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
        if (UnbondingMs is < 1 or > MaxUnbondingMs)
        {
            throw new InvalidDataException($"genesis unbonding_ms must be between 1 and {MaxUnbondingMs} (365 days)");
        }
        if (Allocations.GroupBy(a => a.Address).Any(g => g.Count() > 1))
        {
            throw new InvalidDataException("genesis allocations name an address twice");
        }
        _ = TotalSupply; // throws OverflowException when the allocations overflow
        return this;
    }
}
