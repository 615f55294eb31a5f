using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Coordinator;

// The coordinator's REST contract (docs/protocol.md, "Coordinator REST"), one record per message, shared by the
// coordinator (which writes them), the CLI, the miner and the tests (which read them). Amounts are AITBC decimal
// strings ("0.25"), times RFC 3339 UTC with milliseconds, public keys base64, addresses bech32.

/// <summary>Wire names of the coordinator's headers.</summary>
public static class CoordinatorHeaders
{
    public const string ApiKey = "X-Api-Key";
    public const string MinerKey = "X-Miner-Key";
    public const string IdempotencyKey = "Idempotency-Key";
}

/// <summary>What a job may ask for: the coordinator checks submissions against these, and a miner checks assignments again.</summary>
public static class JobLimits
{
    public const string InferenceType = "inference";
    public const int MaxNumPredict = 8192;
    public const double MaxTemperature = 2.0;
}

/// <summary>Inference options a job may carry; each is optional and validated by the coordinator.</summary>
public sealed record JobOptions(double? Temperature = null, int? NumPredict = null, long? Seed = null);

/// <summary>The seed's flat job body for <c>POST /v1/jobs</c>.</summary>
public sealed record JobSubmission(string Type, string Prompt, string Model, JobOptions? Options = null, string? MaxPrice = null, int? TtlSeconds = null);

/// <summary><c>201</c> to an accepted submission (seed step 3).</summary>
public sealed record JobAccepted(string JobId, string Status, string SubmittedAt);

/// <summary>A job as its owner (or an admin) sees it; absent fields are left out of the JSON.</summary>
public sealed record JobView(
    string JobId,
    string Status,
    string Model,
    string MaxPrice,
    string? Result,
    string? Error,
    string? ReceiptId,
    string? Cost,
    string SubmittedAt,
    string? StartedAt,
    string? CompletedAt,
    string Deadline)
{
    /// <summary>The assigned miner's address, once a miner has the job.</summary>
    public string? Miner { get; init; }

    /// <summary>When a miner accepted the assignment.</summary>
    public string? AssignedAt { get; init; }

    /// <summary>Owner's wallet address; shown in admin listings.</summary>
    public string? Client { get; init; }

    [JsonIgnore]
    public bool IsTerminal => JobStatus.IsTerminal(Status);
}

/// <summary>
/// Job states (docs/protocol.md): pending → assigned → running → completed | failed, and pending|assigned → cancelled. The
/// wire strings of <see cref="JobView.Status"/>, which the coordinator also stores as they are.
/// </summary>
public static class JobStatus
{
    public const string Pending = "pending";
    public const string Assigned = "assigned";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>Every state, in the order a job moves through them.</summary>
    public static readonly IReadOnlyList<string> All = [Pending, Assigned, Running, Completed, Failed, Cancelled];

    public static bool IsTerminal(string status) => status is Completed or Failed or Cancelled;
}

/// <summary>One page of jobs, newest first; <c>next_cursor</c> fetches the next page.</summary>
public sealed record JobPage(IReadOnlyList<JobView> Jobs, string? NextCursor);

// ---------------- miners (X-Miner-Key) ----------------

/// <summary>A miner's GPU as it describes itself; absent on a machine without one.</summary>
public sealed record GpuDescription(string Name, long? MemoryTotalMb = null, int? Count = null);

/// <summary><c>POST /v1/miners/register</c>: where the coordinator pushes assignments and what the miner sells.</summary>
public sealed record MinerRegistration(string Endpoint, IReadOnlyList<string> Models, int Capacity, string PricePerSecond, GpuDescription? Gpu = null);

/// <summary>
/// The answer to a registration. <c>assign_key</c> is the secret the coordinator will present in <c>X-Api-Key</c>
/// when it pushes <c>/v1/jobs/assign</c>; the miner accepts assignments only with it.
/// </summary>
public sealed record MinerRegistered(string MinerId, string Status, string AssignKey, int HeartbeatIntervalSeconds);

/// <summary><c>POST /v1/miners/heartbeat</c>; <c>gpu_utilization</c> (0–100) is left out, not zero, without a GPU.</summary>
public sealed record MinerHeartbeat(IReadOnlyList<string> Models, int InFlight, double? GpuUtilization = null);

/// <summary>The answer to a heartbeat; <c>registered: false</c> tells the miner to register again (coordinator restarted or forgot it).</summary>
public sealed record HeartbeatAck(bool Registered, string Status);

/// <summary><c>POST /v1/jobs/{id}/status</c> by the assigned miner.</summary>
public sealed record JobStatusUpdate(string Status, string StartedAt);

/// <summary>What the miner measured while running a job.</summary>
public sealed record JobMetrics(double ComputeTime, long TokensGenerated, long? PromptTokens = null, double? GpuUtilization = null);

/// <summary>The miner's proof: <c>hash</c> = result_hash, <c>signature</c> = Ed25519 over the JCS of the proof object (Core's <c>MinerProof</c>).</summary>
public sealed record ProofEnvelope(string Hash, string Signature);

/// <summary><c>POST /v1/jobs/{id}/complete</c>.</summary>
public sealed record JobCompletion(string JobId, string Result, JobMetrics Metrics, ProofEnvelope Proof);

/// <summary><c>POST /v1/jobs/{id}/fail</c>.</summary>
public sealed record JobFailure(string Error);

// ---------------- market ----------------

/// <summary>A miner as the market shows it.</summary>
public sealed record MarketMiner(
    string Address,
    IReadOnlyList<string> Models,
    int Capacity,
    int InFlight,
    string PricePerSecond,
    string Stake,
    double Reputation,
    bool Online,
    string LastSeen)
{
    public GpuDescription? Gpu { get; init; }

    public double? GpuUtilization { get; init; }

    /// <summary>Shown to admins only.</summary>
    public string? Endpoint { get; init; }

    public long? JobsCompleted { get; init; }

    public long? JobsFailed { get; init; }
}

public sealed record MarketMiners(IReadOnlyList<MarketMiner> Miners);

/// <summary>A model on offer: how many online miners serve it, their price range and free capacity.</summary>
public sealed record MarketModel(string Model, int Miners, string MinPricePerSecond, string MaxPricePerSecond, int FreeCapacity);

public sealed record MarketModels(IReadOnlyList<MarketModel> Models);

/// <summary>Totals over the marketplace.</summary>
public sealed record MarketStats(
    int MinersOnline,
    int MinersTotal,
    int Capacity,
    int InFlight,
    long JobsTotal,
    IReadOnlyDictionary<string, long> JobsByStatus,
    int QueueDepth,
    string TotalPaid);

// ---------------- explorer (reads the node) ----------------

public sealed record ExplorerBlock(long Height, string Hash, string Time, int NumTxs, string Proposer);

public sealed record ExplorerBlocks(IReadOnlyList<ExplorerBlock> Blocks, long LatestHeight, string? NextCursor);

public sealed record ExplorerTransaction(string Hash, long Height, string Type, string Sender, int Code, string? Log);

public sealed record ExplorerTransactions(IReadOnlyList<ExplorerTransaction> Transactions, string? NextCursor);

public sealed record ExplorerReceipt(string ReceiptId, string JobId, string Miner, string Client, string AmountPaid, string? TxHash, long? BlockHeight, string IssuedAt);

public sealed record ExplorerReceipts(IReadOnlyList<ExplorerReceipt> Receipts, string? NextCursor);

// ---------------- admin ----------------

/// <summary><c>POST /v1/admin/keys</c>: a client key names its wallet address, a miner key its public key (base64).</summary>
public sealed record ApiKeyRequest(string Role, string? Address = null, string? MinerPubKey = null);

/// <summary>The created key: <c>key</c> is shown this once; only its hash is stored.</summary>
public sealed record ApiKeyCreated(string KeyId, string Key, string Role, string? Address, string? MinerPubKey, string CreatedAt);

// ---------------- miner REST (port 8010) ----------------

/// <summary>What a miner runs: the job's payload.</summary>
public sealed record JobData(string Type, string Prompt, string Model, JobOptions? Options = null);

/// <summary>
/// <c>POST /v1/jobs/assign</c> from the coordinator to a miner: <c>reward</c> is the escrowed budget (AITBC),
/// <c>deadline</c> when the job must be done (RFC 3339), <c>price_per_second</c> the miner's registered price.
/// </summary>
public sealed record JobAssignment(string JobId, JobData JobData, string Reward, string Deadline);

/// <summary>A miner's <c>202</c> to an assignment.</summary>
public sealed record AssignmentAccepted(string JobId, string Status);
