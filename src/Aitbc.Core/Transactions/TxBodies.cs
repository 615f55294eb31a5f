namespace Aitbc.Core.Transactions;

/// <summary>The type names of chain transactions, as they appear in the <c>type</c> field.</summary>
public static class TxType
{
    public const string Transfer = "transfer";
    public const string Approve = "approve";
    public const string RegisterMiner = "register_miner";
    public const string Unstake = "unstake";
    public const string SubmitJob = "submit_job";
    public const string RecordReceipt = "record_receipt";
    public const string RefundJob = "refund_job";

    public static readonly IReadOnlyList<string> All = [Transfer, Approve, RegisterMiner, Unstake, SubmitJob, RecordReceipt, RefundJob];

    public static Type BodyType(string type) => type switch
    {
        Transfer => typeof(TransferBody),
        Approve => typeof(ApproveBody),
        RegisterMiner => typeof(RegisterMinerBody),
        Unstake => typeof(UnstakeBody),
        SubmitJob => typeof(SubmitJobBody),
        RecordReceipt => typeof(RecordReceiptBody),
        RefundJob => typeof(RefundJobBody),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown transaction type"),
    };
}

/// <summary>The type-specific part of a transaction.</summary>
public abstract record TxBody
{
    /// <summary>The <c>type</c> this body belongs to.</summary>
    public abstract string TypeName();
}

public sealed record TransferBody(Address To, Amount Amount) : TxBody
{
    public override string TypeName() => TxType.Transfer;
}

public sealed record ApproveBody(Address Spender, Amount Amount) : TxBody
{
    public override string TypeName() => TxType.Approve;
}

public sealed record RegisterMinerBody(Amount Stake) : TxBody
{
    public override string TypeName() => TxType.RegisterMiner;
}

public sealed record UnstakeBody(Amount Amount) : TxBody
{
    public override string TypeName() => TxType.Unstake;
}

public sealed record SubmitJobBody(string JobId, Address Client, string PayloadHash, Amount MaxAmount) : TxBody
{
    public override string TypeName() => TxType.SubmitJob;
}

/// <summary>
/// Pays a miner from escrow. Carries the proof fields (model, prompt_hash, compute_time, tokens_generated)
/// besides the payment fields, because the chain must rebuild the proof to check miner_signature.
/// </summary>
public sealed record RecordReceiptBody(
    string ReceiptId,
    string JobId,
    Address Miner,
    Amount AmountPaid,
    string ResultHash,
    string MinerSignature,
    string Model,
    string PromptHash,
    double ComputeTime,
    long TokensGenerated) : TxBody
{
    public override string TypeName() => TxType.RecordReceipt;
}

public sealed record RefundJobBody(string JobId, string Reason) : TxBody
{
    public override string TypeName() => TxType.RefundJob;
}
