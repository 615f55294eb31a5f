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

/// <summary>A registered miner: its key (which signs proofs) and its locked stake.</summary>
public sealed record MinerState(Address Address, string PubKey, Amount Stake, long RegisteredHeight);

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
