using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Chain;
using Aitbc.Coordinator.Storage;
using Aitbc.Core;
using Aitbc.Core.Json;
using Aitbc.Core.Transactions;
using Microsoft.Extensions.Logging;

namespace Aitbc.Coordinator.Jobs;

/// <summary>The outcome of a submission.</summary>
public abstract record SubmitOutcome
{
    private SubmitOutcome()
    {
    }

    /// <summary>A new job (or, with <paramref name="Replayed"/>, the job an earlier request with the same Idempotency-Key made).</summary>
    public sealed record Accepted(JobRecord Job, bool Replayed) : SubmitOutcome;

    /// <summary>The Idempotency-Key was used before with a different body.</summary>
    public sealed record KeyReused(string JobId) : SubmitOutcome;

    /// <summary>The chain refused the escrow; no job was kept.</summary>
    public sealed record Refused(TxCode Code, string Log) : SubmitOutcome;

    /// <summary>The node could not be asked for the coordinator's nonce, so nothing was signed or stored.</summary>
    public sealed record ChainUnavailable(string Error) : SubmitOutcome;
}

/// <summary>Job commands: submit (escrow through the outbox) and cancel (refund through the outbox).</summary>
public sealed class JobService(
    ICoordinatorStore store,
    ChainSender sender,
    OutboxProcessor outbox,
    OutboxSignal outboxSignal,
    Scheduling.SchedulerSignal scheduler,
    JobSignals signals,
    CoordinatorMetrics metrics,
    CoordinatorOptions options,
    ILogger<JobService> logger)
{
    private const int MaxNonceRetries = 3;

    /// <summary>Submissions signed, stored and broadcast together at most (the node takes up to 1,000 calls in a batch).</summary>
    internal const int MaxBatch = 256;

    private readonly ConcurrentQueue<QueuedSubmission> _queue = new();
    private int _draining;

    private long Now => options.Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Creates a pending job and its escrow. Submissions are committed in groups: each one waits in a queue, and a
    /// single writer takes every waiting submission at once and, under the sender's lock, signs their submit_job
    /// transactions with consecutive nonces, stores all jobs with their signed outbox rows in one transaction,
    /// broadcasts them as one JSON-RPC batch, and marks the admitted rows sent in one more transaction. A refusal
    /// deletes that job alone (the client sees 402, no job exists) and re-signs the ones after it, whose nonces the
    /// node would otherwise see as a gap; an undecided broadcast leaves the row to the outbox worker and the job
    /// stands. Idempotency is checked by the writer, and two submissions with one key never share a group, so two
    /// concurrent retries cannot both create a job.
    /// </summary>
    public async Task<SubmitOutcome> SubmitAsync(Caller caller, JobSubmission submission, string? idempotencyKey, string requestHash, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var queued = new QueuedSubmission(caller, Address.Parse(caller.Address!), submission, idempotencyKey, requestHash, cancellationToken);
        _queue.Enqueue(queued);
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            // The writer runs on its own: no caller's cancellation or request scope may stop a group half-way.
            _ = Task.Run(DrainAsync, CancellationToken.None);
        }
        return await queued.Outcome.Task.ConfigureAwait(false);
    }

    /// <summary>Submissions waiting for the writer.</summary>
    internal int QueuedSubmissions => _queue.Count;

    /// <summary>
    /// The single writer: takes the sender's lock, then every waiting submission (up to <see cref="MaxBatch"/>) as one
    /// group, until the queue is empty. The lock comes first so that submissions arriving while the outbox worker
    /// holds it join the group instead of waiting for the next.
    /// </summary>
    private async Task DrainAsync()
    {
        var carried = new List<QueuedSubmission>();
        while (true)
        {
            using (await sender.LockAsync(CancellationToken.None).ConfigureAwait(false))
            {
                var group = new List<QueuedSubmission>();
                var keys = new HashSet<(string, string)>();
                var later = new List<QueuedSubmission>();
                foreach (var queued in carried)
                {
                    Take(queued, group, keys, later);
                }
                while (group.Count < MaxBatch && _queue.TryDequeue(out var queued))
                {
                    Take(queued, group, keys, later);
                }
                carried = later;
                if (group.Count > 0)
                {
                    metrics.SubmissionGroup(group.Count);
                    try
                    {
                        await SubmitLockedAsync(group).ConfigureAwait(false);
                    }
                    catch (Exception e)
                    {
                        // The database failed (or a bug): every submission of the group not yet answered gets the error, as each alone would have.
                        foreach (var queued in group)
                        {
                            queued.Outcome.TrySetException(e);
                        }
                    }
                }
            }
            if (carried.Count == 0 && _queue.IsEmpty)
            {
                Volatile.Write(ref _draining, 0);
                // A submission queued after the last look but before the flag cleared found the writer still running: look once more.
                if (_queue.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Adds a submission to the group, unless its caller gave up, or its Idempotency-Key is already in the group (then it waits for the next).</summary>
    private static void Take(QueuedSubmission queued, List<QueuedSubmission> group, HashSet<(string, string)> keys, List<QueuedSubmission> later)
    {
        if (queued.CancellationToken.IsCancellationRequested)
        {
            queued.Outcome.TrySetCanceled(queued.CancellationToken);
        }
        else if (queued.IdempotencyKey is { } key && !keys.Add((queued.Caller.KeyId, key)))
        {
            // Its twin decides first, exactly as if they had come one after the other: this one then replays its job.
            later.Add(queued);
        }
        else
        {
            group.Add(queued);
        }
    }

    /// <summary>One group, under the sender's lock. From here it runs to its end even if clients hang up: stored jobs must get their outcome recorded.</summary>
    private async Task SubmitLockedAsync(List<QueuedSubmission> group)
    {
        var cancellationToken = CancellationToken.None;
        var stage = System.Diagnostics.Stopwatch.GetTimestamp();
        var fresh = await AnswerReplaysAsync(group, cancellationToken).ConfigureAwait(false);
        stage = metrics.SubmissionStage("replays", stage);
        if (fresh.Count == 0)
        {
            return;
        }

        var now = Now;
        var entries = fresh.Select(queued => Entry.Create(queued, NewJobId(), now)).ToList();
        IReadOnlyList<SignedTransaction> signed;
        try
        {
            signed = await sender.SignManyAsync([.. entries.Select(e => (TxBody)e.Body)], cancellationToken).ConfigureAwait(false);
        }
        catch (Client.Node.NodeClientException e)
        {
            logger.LogWarning("cannot sign submit_job: {Error}", e.Message);
            foreach (var entry in entries)
            {
                metrics.Submission("unavailable");
                entry.Queued.Outcome.TrySetResult(new SubmitOutcome.ChainUnavailable(e.Message));
            }
            return;
        }
        for (var i = 0; i < entries.Count; i++)
        {
            var tx = signed[i];
            entries[i].Row = new OutboxRecord(0, entries[i].Job.Id, OutboxKind.SubmitJob, JsonSerializer.Serialize(entries[i].Body, WireJson.Options), OutboxStatus.Pending, 0, null,
                tx.Tx.Nonce, Convert.ToBase64String(tx.WireBytes), tx.Hash, null, now, now, null);
            entries[i].Tx = tx;
        }
        stage = metrics.SubmissionStage("sign", stage);
        IReadOnlyList<long> rowIds;
        try
        {
            rowIds = await store.InsertJobsAsync([.. entries.Select(e => (e.Job, e.Row))], cancellationToken).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException) when (entries.Any(e => e.Queued.IdempotencyKey is not null))
        {
            // Another coordinator process sharing the database stored a job with one of these keys between our check and
            // our insert, and the unique index refused the whole group. Nothing was broadcast (no nonce is spent): take
            // them one at a time, so that the raced one answers as a retry and the others go ahead.
            if (entries.Count > 1)
            {
                foreach (var entry in entries)
                {
                    await SubmitLockedAsync([entry.Queued]).ConfigureAwait(false);
                }
                return;
            }
            var only = entries[0].Queued;
            if (await store.FindJobByIdempotencyKeyAsync(only.Caller.KeyId, only.IdempotencyKey!, cancellationToken).ConfigureAwait(false) is not { } raced)
            {
                throw;
            }
            only.Outcome.TrySetResult(Replay(raced, only.RequestHash));
            return;
        }
        for (var i = 0; i < entries.Count; i++)
        {
            entries[i].Row = entries[i].Row with { Id = rowIds[i] };
        }
        stage = metrics.SubmissionStage("store", stage);

        // A refusal in the middle leaves a nonce gap the node will not bridge: the ones after it are re-signed.
        var deliveries = await sender.SendManyAsync([.. entries.Select(e => e.Row.Id)], [.. entries.Select(e => (TxBody)e.Body)], [.. entries.Select(e => e.Tx)],
            outbox.Backoff, MaxNonceRetries, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < entries.Count; i++)
        {
            entries[i].Delivery = deliveries[i];
        }
        stage = metrics.SubmissionStage("broadcast", stage);
        await RecordAsync(entries).ConfigureAwait(false);
        metrics.SubmissionStage("record", stage);
    }

    /// <summary>Records the group's outcomes (admitted rows marked sent in one transaction, refused jobs deleted in one) and answers each caller.</summary>
    private async Task RecordAsync(List<Entry> entries)
    {
        var cancellationToken = CancellationToken.None;
        var refused = entries.Where(e => e.Delivery is Delivery.Refused).ToList();
        var accepted = entries.Where(e => e.Delivery is not Delivery.Refused).ToList();
        if (refused.Count > 0)
        {
            await store.DeleteJobsAsync([.. refused.Select(e => e.Job.Id)], cancellationToken).ConfigureAwait(false);
        }
        // Undecided rows (the node unreachable, its mempool full, the nonce still stale) wait for the outbox worker; their jobs stand.
        await outbox.ApplyManyAsync([.. accepted.Select(e => e.Row)], [.. accepted.Select(e => e.Delivery!)], cancellationToken).ConfigureAwait(false);
        foreach (var entry in refused)
        {
            var r = (Delivery.Refused)entry.Delivery!;
            metrics.OutboxDelivery(OutboxKind.SubmitJob, r);
            metrics.Submission("refused");
            logger.LogInformation("job escrow refused for client {Client}: {Code} {Log}", entry.Queued.Client, r.Code, r.Log);
            entry.Queued.Outcome.TrySetResult(new SubmitOutcome.Refused(r.Code, r.Log));
        }
        foreach (var entry in accepted)
        {
            metrics.Submission("accepted");
            logger.LogInformation("job {JobId} accepted for client {Client} (model {Model}, max price {MaxPrice})",
                entry.Job.Id, entry.Queued.Client, entry.Queued.Submission.Model, entry.Queued.Submission.MaxPrice);
            entry.Queued.Outcome.TrySetResult(new SubmitOutcome.Accepted(entry.Job, Replayed: false));
        }
        if (accepted.Any(e => e.Delivery is Delivery.Transient))
        {
            outboxSignal.Kick();
        }
        if (accepted.Count > 0)
        {
            scheduler.Kick();
        }
    }

    /// <summary>Answers the submissions whose Idempotency-Key already has a job (one query for the group); returns the others.</summary>
    private async Task<List<QueuedSubmission>> AnswerReplaysAsync(List<QueuedSubmission> group, CancellationToken cancellationToken)
    {
        var keyed = group.Where(q => q.IdempotencyKey is not null).Select(q => (q.Caller.KeyId, q.IdempotencyKey!)).ToList();
        if (keyed.Count == 0)
        {
            return group;
        }
        var earlier = (await store.FindJobsByIdempotencyKeysAsync(keyed, cancellationToken).ConfigureAwait(false))
            .ToDictionary(j => (j.KeyId, j.IdempotencyKey!));
        var fresh = new List<QueuedSubmission>(group.Count);
        foreach (var queued in group)
        {
            if (queued.IdempotencyKey is { } key && earlier.TryGetValue((queued.Caller.KeyId, key), out var job))
            {
                queued.Outcome.TrySetResult(Replay(job, queued.RequestHash));
            }
            else
            {
                fresh.Add(queued);
            }
        }
        return fresh;
    }

    private static SubmitOutcome Replay(JobRecord earlier, string requestHash) =>
        earlier.RequestHash == requestHash ? new SubmitOutcome.Accepted(earlier, Replayed: true) : new SubmitOutcome.KeyReused(earlier.Id);

    /// <summary>Cancels a pending or assigned job and queues its refund; false when the job was past that.</summary>
    public async Task<bool> CancelAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var now = Now;
        var refund = OutboxRows.Refund(job.Id, "cancelled by client", now);
        if (!await store.CancelJobAsync(job.Id, now, refund, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }
        metrics.Cancelled();
        signals.Notify(job.Id);
        outboxSignal.Kick();
        return true;
    }

    /// <summary>The SHA-256 of the request body's canonical JSON: equal for equal bodies however they are spaced or ordered.</summary>
    public static string RequestHash(JsonElement body) => Convert.ToHexStringLower(SHA256.HashData(CanonicalJson.Serialize(body)));

    /// <summary>A submission waiting for the writer, with the task its caller awaits.</summary>
    private sealed record QueuedSubmission(Caller Caller, Address Client, JobSubmission Submission, string? IdempotencyKey, string RequestHash, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<SubmitOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>A new job of a group as it moves along: its escrow body, row, signed transaction and the broadcast's verdict.</summary>
    private sealed class Entry(QueuedSubmission queued, SubmitJobBody body, JobRecord job)
    {
        public QueuedSubmission Queued { get; } = queued;

        public SubmitJobBody Body { get; } = body;

        public JobRecord Job { get; } = job;

        public OutboxRecord Row { get; set; } = null!;

        public SignedTransaction Tx { get; set; } = null!;

        public Delivery? Delivery { get; set; }

        public static Entry Create(QueuedSubmission queued, string jobId, long now)
        {
            var submission = queued.Submission;
            var body = new SubmitJobBody(jobId, queued.Client, submission.PayloadHash(), submission.MaxPrice);
            var job = new JobRecord(jobId, queued.Client.Value, queued.Caller.KeyId, JobStatus.Pending, submission.Model, submission.Prompt,
                System.Text.Encoding.UTF8.GetString(CanonicalJson.Serialize(submission.Options)), submission.MaxPrice.Micro, body.PayloadHash,
                queued.IdempotencyKey, queued.RequestHash, now, null, null, now + (submission.TtlSeconds * 1000L), null, null, null, null);
            return new Entry(queued, body, job);
        }
    }

    /// <summary>"job_" and 26 random base32 characters: unguessable, and valid as a chain job_id.</summary>
    private static string NewJobId()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        Span<char> chars = stackalloc char[26];
        var bits = new System.Numerics.BigInteger(bytes, isUnsigned: true);
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[(int)(bits % 32)];
            bits /= 32;
        }
        return "job_" + new string(chars);
    }
}
