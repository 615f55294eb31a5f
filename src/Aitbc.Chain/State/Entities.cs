using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Aitbc.Core;

namespace Aitbc.Chain.State;

/// <summary>An account: spendable balance, the nonce of its last transaction, and what it allows others to spend.</summary>
public sealed record AccountState(Amount Balance, ulong Nonce, ImmutableSortedDictionary<string, Amount> Allowances)
{
    public static readonly AccountState Empty = new(Amount.Zero, 0, ImmutableSortedDictionary.Create<string, Amount>(StringComparer.Ordinal));

    public Amount AllowanceFor(Address spender) => Allowances.TryGetValue(spender.Value, out var a) ? a : Amount.Zero;

    public AccountState WithAllowance(Address spender, Amount amount) =>
        this with { Allowances = amount.IsZero ? Allowances.Remove(spender.Value) : Allowances.SetItem(spender.Value, amount) };
}

/// <summary>
/// A registered miner: its key (which signs proofs), its bonded stake (what ranks it and what it may unstake) and the
/// stake it unstaked that is still unbonding (null when none, so a miner that never unstaked is stored as before).
/// </summary>
public sealed record MinerState(Address Address, string PubKey, Amount Stake, long RegisteredHeight, IReadOnlyList<UnbondingEntry>? Unbonding = null)
{
    [JsonIgnore]
    public Amount UnbondingTotal => Unbonding?.Aggregate(Amount.Zero, (sum, e) => sum + e.Amount) ?? Amount.Zero;

    /// <summary>What a slash can take: the bonded stake and the stake still unbonding.</summary>
    [JsonIgnore]
    public Amount Slashable => Stake + UnbondingTotal;

    public MinerState WithUnbonding(IEnumerable<UnbondingEntry> entries)
    {
        UnbondingEntry[] list = [.. entries];
        return this with { Unbonding = list.Length == 0 ? null : list };
    }

    // The entries are compared by value: two nodes that executed the same blocks hold equal miners.
    public bool Equals(MinerState? other) =>
        other is not null && Address == other.Address && PubKey == other.PubKey && Stake == other.Stake && RegisteredHeight == other.RegisteredHeight
        && (Unbonding ?? []).SequenceEqual(other.Unbonding ?? []);

    public override int GetHashCode() => HashCode.Combine(Address, PubKey, Stake, RegisteredHeight, Unbonding?.Count ?? 0);
}

public static class EscrowStatus
{
    public const string Open = "open";
    public const string Paid = "paid";
    public const string Refunded = "refunded";
}

/// <summary>A job's escrow: opened by submit_job, closed exactly once by record_receipt or refund_job.</summary>
public sealed record EscrowState(
    string JobId,
    Address Client,
    Address Coordinator,
    string PayloadHash,
    Amount Amount,
    string Status,
    long OpenedHeight,
    long? ClosedHeight = null,
    string? ReceiptId = null,
    Amount? Paid = null,
    Amount? Refunded = null,
    string? Reason = null)
{
    [JsonIgnore]
    public bool IsOpen => Status == EscrowStatus.Open;
}

/// <summary>A receipt recorded on chain by record_receipt.</summary>
public sealed record ReceiptRecord(
    string ReceiptId,
    string JobId,
    Address Client,
    Address Miner,
    Amount AmountPaid,
    Amount Refunded,
    string Model,
    string PromptHash,
    string ResultHash,
    double ComputeTime,
    long TokensGenerated,
    string MinerSignature,
    long Height,
    string TxHash);
