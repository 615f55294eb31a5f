namespace Aitbc.Coordinator.Storage;

/// <summary>
/// The coordinator's database. One interface so SQLite (default) and PostgreSQL (later) are interchangeable; every
/// method that changes a job and queues a chain transaction does both in one database transaction.
/// </summary>
public interface ICoordinatorStore
{
    /// <summary>Creates or upgrades the schema.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>Answers when the database can be queried (readiness).</summary>
    Task PingAsync(CancellationToken cancellationToken);

    Task InsertApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces a key by id (the bootstrap admin key, whose secret may change between starts).</summary>
    Task UpsertApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken);

    Task<ApiKeyRecord?> GetApiKeyAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Makes key <paramref name="id"/> match no key text from now on; false when there is no such key. The row stays: jobs
    /// and miners name it.
    /// </summary>
    Task<bool> RevokeApiKeyAsync(string id, CancellationToken cancellationToken);

    Task<JobRecord?> GetJobAsync(string id, CancellationToken cancellationToken);

    Task<JobRecord?> FindJobByIdempotencyKeyAsync(string keyId, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>A client's jobs, newest first, after <paramref name="after"/> when given.</summary>
    Task<IReadOnlyList<JobRecord>> ListJobsAsync(string clientAddress, JobCursor? after, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Inserts new jobs, each with its submit_job outbox row, all in one transaction (all or none); returns the rows'
    /// ids in order. The rows get increasing ids in list order, so the outbox delivers them in nonce order.
    /// </summary>
    Task<IReadOnlyList<long>> InsertJobsAsync(IReadOnlyList<(JobRecord Job, OutboxRecord Submit)> jobs, CancellationToken cancellationToken);

    /// <summary>Removes jobs the chain refused to escrow (or that could not be signed), with their outbox rows, so that they never existed; one transaction.</summary>
    Task DeleteJobsAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken);

    /// <summary>Moves a pending or assigned job to cancelled and queues its refund, in one transaction; false when the job was in another state.</summary>
    Task<bool> CancelJobAsync(string id, long now, OutboxRecord refund, CancellationToken cancellationToken);

    /// <summary>Marks a non-terminal job failed; false when it was already terminal.</summary>
    Task<bool> FailJobAsync(string id, string error, long now, CancellationToken cancellationToken);

    /// <summary>The oldest pending outbox rows in id order, up to <paramref name="limit"/>, stopping before the first not due at <paramref name="now"/>.</summary>
    Task<IReadOnlyList<OutboxRecord>> DueOutboxAsync(long now, int limit, CancellationToken cancellationToken);

    /// <summary>The first pending row in id order, due or not (its <see cref="OutboxRecord.NotBefore"/> is when the queue moves next), or null when none waits.</summary>
    Task<OutboxRecord?> OutboxHeadAsync(CancellationToken cancellationToken);

    /// <summary>Sent rows waiting for their block, oldest first.</summary>
    Task<IReadOnlyList<OutboxRecord>> SentOutboxAsync(int limit, CancellationToken cancellationToken);

    Task<IReadOnlyList<OutboxRecord>> OutboxForJobAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Records the transactions signed for rows before they are broadcast, in one transaction, so that after a crash their hashes can be looked up on chain.</summary>
    Task MarkOutboxSignedAsync(IReadOnlyList<OutboxSignature> signatures, long now, CancellationToken cancellationToken);

    /// <summary>
    /// A chain writer's flight, before its broadcast, in one transaction: the signatures of queued rows, and new jobs handed
    /// straight to the writer with their submit_job rows already signed. Returns the new rows' ids.
    /// </summary>
    Task<IReadOnlyList<long>> StoreFlightAsync(IReadOnlyList<OutboxSignature> signatures, IReadOnlyList<(JobRecord Job, OutboxRecord Submit)> jobs, long now,
        CancellationToken cancellationToken);

    Task MarkOutboxSentAsync(long id, long now, CancellationToken cancellationToken);

    /// <summary>Marks several rows sent, in one transaction.</summary>
    Task MarkOutboxSentAsync(IReadOnlyList<long> ids, long now, CancellationToken cancellationToken);

    /// <summary>Counts a failed attempt and postpones the row to <paramref name="notBefore"/>.</summary>
    Task MarkOutboxRetryAsync(long id, string error, long notBefore, long now, CancellationToken cancellationToken);

    /// <summary>Puts a sent row back to pending (its signed bytes kept) when its commit never came.</summary>
    Task RequeueOutboxAsync(long id, long now, CancellationToken cancellationToken);

    /// <summary>Closes a row: committed (with its block height, and a note when the chain had it done already) or refused.</summary>
    Task CloseOutboxAsync(long id, string status, long? height, string? note, long now, CancellationToken cancellationToken);

    /// <summary>Closes several rows, in one transaction.</summary>
    Task CloseOutboxAsync(IReadOnlyList<OutboxClose> closes, long now, CancellationToken cancellationToken);

    /// <summary>Inserts a miner or refreshes its registration (endpoint, models, capacity, price, GPU), keeping its reputation and counts.</summary>
    Task UpsertMinerAsync(MinerRecord miner, CancellationToken cancellationToken);

    /// <summary>Records a heartbeat; false when no miner has <paramref name="address"/> (it must register again).</summary>
    Task<bool> HeartbeatMinerAsync(string address, IReadOnlyList<string> models, int inFlight, double? gpuUtilization, long now, CancellationToken cancellationToken);

    Task<MinerRecord?> GetMinerAsync(string address, CancellationToken cancellationToken);

    Task<IReadOnlyList<MinerRecord>> ListMinersAsync(CancellationToken cancellationToken);

    /// <summary>Pending jobs whose escrow was admitted by the chain (their submit_job is no longer pending), oldest first.</summary>
    Task<IReadOnlyList<JobRecord>> PendingJobsAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Assigned and running jobs (the ones a miner holds), oldest first.</summary>
    Task<IReadOnlyList<JobRecord>> ActiveJobsAsync(CancellationToken cancellationToken);

    /// <summary>Non-terminal jobs whose deadline is before <paramref name="now"/>.</summary>
    Task<IReadOnlyList<JobRecord>> JobsPastDeadlineAsync(long now, CancellationToken cancellationToken);

    /// <summary>
    /// pending → assigned for several jobs, in one transaction; returns the ids of the jobs claimed. A job no longer
    /// pending (cancelled, or taken by another coordinator) is not claimed, and the others still are.
    /// </summary>
    Task<IReadOnlySet<string>> AssignJobsAsync(IReadOnlyList<JobClaim> claims, long now, CancellationToken cancellationToken);

    /// <summary>assigned (to <paramref name="miner"/>) → pending again after the miner refused or could not be reached.</summary>
    Task<bool> UnassignJobAsync(string jobId, string miner, long now, CancellationToken cancellationToken);

    /// <summary>assigned (to <paramref name="miner"/>) → running.</summary>
    Task<bool> StartJobAsync(string jobId, string miner, long now, CancellationToken cancellationToken);

    /// <summary>
    /// assigned|running (to the receipt's miner) → completed for several jobs, each with its result, cost and receipt,
    /// its record_receipt queued and its miner credited, in one transaction; returns, in order, whether each completed.
    /// A job in another state (or listed twice) is not completed, and the others still are.
    /// </summary>
    Task<IReadOnlyList<bool>> CompleteJobsAsync(IReadOnlyList<CompletedJob> completions, CancellationToken cancellationToken);

    /// <summary>
    /// A job in one of <paramref name="fromStatuses"/> (and, when given, held by <paramref name="miner"/>) → failed with its
    /// refund queued and the miner's record moved by <paramref name="outcome"/>, in one transaction.
    /// </summary>
    Task<bool> FailJobWithRefundAsync(string jobId, string error, IReadOnlyList<string> fromStatuses, string? miner, MinerOutcome outcome, OutboxRecord refund, long now, CancellationToken cancellationToken);

    Task<ReceiptRecord?> GetReceiptAsync(string id, CancellationToken cancellationToken);

    Task<ReceiptRecord?> GetReceiptByJobAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Receipts newest first, before <paramref name="before"/> when given.</summary>
    Task<IReadOnlyList<ReceiptRecord>> ListReceiptsAsync(TimeCursor? before, int limit, CancellationToken cancellationToken);

    /// <summary>All jobs (optionally of one status), newest first, for admins.</summary>
    Task<IReadOnlyList<JobRecord>> ListAllJobsAsync(string? status, JobCursor? after, int limit, CancellationToken cancellationToken);

    Task<IReadOnlyDictionary<string, long>> JobCountsByStatusAsync(CancellationToken cancellationToken);

    /// <summary>Sum of the cost of completed jobs, in uaitbc.</summary>
    Task<ulong> TotalPaidAsync(CancellationToken cancellationToken);
}
