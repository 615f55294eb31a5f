namespace Aitbc.Coordinator.Storage;

/// <summary>The roles an API key can have.</summary>
public static class Roles
{
    public const string Client = "client";
    public const string Miner = "miner";
    public const string Admin = "admin";

    public static bool IsKnown(string? role) => role is Client or Miner or Admin;
}

/// <summary>An API key as stored: never the key itself, only its SHA-256 (lower hex).</summary>
public sealed record ApiKeyRecord(string Id, string Role, string KeyHash, string? Address, string? MinerPubKey, long CreatedAt);

/// <summary>A job row. Times are Unix milliseconds; amounts integer uaitbc.</summary>
public sealed record JobRecord(
    string Id,
    string ClientAddress,
    string KeyId,
    string Status,
    string Model,
    string Prompt,
    string OptionsJson,
    ulong MaxPriceMicro,
    string PayloadHash,
    string? IdempotencyKey,
    string? RequestHash,
    long SubmittedAt,
    long? StartedAt,
    long? CompletedAt,
    long DeadlineAt,
    string? Result,
    string? Error,
    string? ReceiptId,
    ulong? CostMicro)
{
    /// <summary>The assigned miner's address, from assignment on.</summary>
    public string? Miner { get; init; }

    public long? AssignedAt { get; init; }

    /// <summary>The miner's price (uaitbc per second) when it took the job: what the receipt bills.</summary>
    public ulong? PricePerSecondMicro { get; init; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the request that submitted the job, when it was traced: the assignment continues that
    /// trace, so one job's trace shows every hop.
    /// </summary>
    public string? TraceParent { get; init; }

    /// <summary>
    /// When the coordinator saw the job's escrow in a block; until then a completed job's result is withheld from its
    /// client (the escrow admitted to the mempool may still fail in its block, and then nobody pays for the result).
    /// </summary>
    public long? EscrowAt { get; init; }
}

/// <summary>The kinds of chain transactions the outbox sends.</summary>
public static class OutboxKind
{
    public const string SubmitJob = "submit_job";
    public const string RecordReceipt = "record_receipt";
    public const string RefundJob = "refund_job";
}

/// <summary>
/// Outbox states: <c>pending</c> (to send; may already hold a signed tx from an attempt whose fate is unknown),
/// <c>sent</c> (admitted to the mempool), <c>committed</c> (in a block, or found already done on chain),
/// <c>refused</c> (the chain will never accept it).
/// </summary>
public static class OutboxStatus
{
    public const string Pending = "pending";
    public const string Sent = "sent";
    public const string Committed = "committed";
    public const string Refused = "refused";
}

/// <summary>What a verified completion stores: the job as completed (result, cost, time), its receipt and its record_receipt row.</summary>
public sealed record CompletedJob(JobRecord Job, ReceiptRecord Receipt, OutboxRecord RecordReceipt);

/// <summary>A scheduler's claim: pending job <paramref name="JobId"/> to be assigned to <paramref name="Miner"/> at its price per second.</summary>
public sealed record JobClaim(string JobId, string Miner, ulong PricePerSecondMicro);

/// <summary>
/// How outbox row <paramref name="Id"/> ends: its final status, block height when committed, and a note;
/// <paramref name="EscrowOf"/> names the job whose escrow this row's transaction opened on chain (a submit_job that executed).
/// </summary>
public sealed record OutboxClose(long Id, string Status, long? Height, string? Note, string? EscrowOf = null);

/// <summary>The transaction signed for outbox row <paramref name="Id"/>: its nonce and hash (signing the body at that nonce again gives the same bytes).</summary>
public sealed record OutboxSignature(long Id, ulong Nonce, string TxHash);

/// <summary>An outgoing chain transaction: its body, and once signed its nonce and hash.</summary>
public sealed record OutboxRecord(
    long Id,
    string JobId,
    string Kind,
    string BodyJson,
    string Status,
    int Attempts,
    string? LastError,
    ulong? Nonce,
    string? TxHash,
    long? Height,
    long CreatedAt,
    long NotBefore,
    long? SentAt);

/// <summary>A position in a newest-first job listing: the last job of the previous page.</summary>
public sealed record JobCursor(long SubmittedAt, string Id);

/// <summary>A registered miner: where to push assignments, what it sells, and how it has done.</summary>
public sealed record MinerRecord(
    string Address,
    string PubKey,
    string KeyId,
    string Endpoint,
    IReadOnlyList<string> Models,
    int Capacity,
    int InFlight,
    ulong PricePerSecondMicro,
    string? GpuJson,
    double? GpuUtilization,
    long RegisteredAt,
    long LastSeen,
    double Reputation,
    long JobsCompleted,
    long JobsFailed,
    long JobsTimedOut);

/// <summary>How a job's end moves its miner's record: completed raises reputation, failed and timed out lower it.</summary>
public enum MinerOutcome
{
    None,
    Completed,
    Failed,
    TimedOut,
}

/// <summary>A stored receipt (its signed JSON) and, once its record_receipt committed, the transaction and block.</summary>
public sealed record ReceiptRecord(string Id, string JobId, string Miner, string Client, string ReceiptJson, string CompletionHash, long IssuedAt, string? TxHash = null, long? BlockHeight = null);

/// <summary>A position in a listing ordered by (time, id).</summary>
public sealed record TimeCursor(long At, string Id);
