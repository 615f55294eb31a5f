using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Aitbc.Client.Coordinator;
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
    HeldOutboxRows held,
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

    /// <summary>Kicked for each submission queued, so a writer waiting on a flight prepares what arrives meanwhile.</summary>
    private readonly Core.Threading.WakeSignal _arrived = new();
    private int _draining;

    private long Now => options.Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Creates a pending job and its escrow. Submissions are committed in groups: each one waits in a queue, and a
    /// single writer takes every waiting submission at once, signs their submit_job transactions with consecutive
    /// nonces, stores all jobs with their signed outbox rows in one transaction, broadcasts them as one JSON-RPC batch,
    /// and marks the admitted rows sent in one more transaction. The writer works on two groups at once: while one is
    /// broadcast and recorded, the next is signed from the nonce the first leaves next and stored; under the sender's
    /// lock, a group whose nonces were taken meanwhile is signed again before it goes. A refusal deletes that job alone
    /// (the client sees 402, no job exists) and re-signs the ones after it, whose nonces the node would otherwise see as
    /// a gap; an undecided broadcast leaves the row to the outbox worker and the job stands. Idempotency is checked by
    /// the writer, and two submissions with one key are never in one group nor in two groups in flight together, so two
    /// concurrent retries cannot both create a job.
    /// </summary>
    public async Task<SubmitOutcome> SubmitAsync(Caller caller, JobSubmission submission, string? idempotencyKey, string requestHash, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var queued = new QueuedSubmission(caller, Address.Parse(caller.Address!), submission, idempotencyKey, requestHash, cancellationToken);
        _queue.Enqueue(queued);
        _arrived.Kick();
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
    /// The single writer. It takes every waiting submission (up to <see cref="MaxBatch"/>) as one group and prepares it
    /// (replays, sign, store) while the group before it is in flight (broadcast and record); submissions that arrive
    /// while that flight is still out are prepared too and join the same next flight, so each flight carries what came
    /// during the last. A flight starts only once the one before has landed, so transactions reach the node in nonce
    /// order. With no group in flight it takes the sender's lock before the group, so that submissions arriving while
    /// the outbox worker holds it join the group instead of waiting for the next.
    /// </summary>
    private async Task DrainAsync()
    {
        var carried = new List<QueuedSubmission>();
        InFlight? inFlight = null;
        Prepared? next = null;
        while (true)
        {
            var locked = inFlight is null ? await sender.LockAsync(CancellationToken.None).ConfigureAwait(false) : null;
            // A key in flight or already prepared waits too: the job it made may yet be refused and deleted.
            var keys = new HashSet<(string, string)>([.. inFlight?.Keys ?? [], .. next?.Keys ?? []]);
            var group = new List<QueuedSubmission>();
            var later = new List<QueuedSubmission>();
            var room = MaxBatch - (next?.Entries.Count ?? 0);
            foreach (var queued in carried)
            {
                Take(queued, group, keys, later);
            }
            while (group.Count < room && _queue.TryDequeue(out var queued))
            {
                Take(queued, group, keys, later);
            }
            carried = later;
            if (group.Count > 0)
            {
                Prepared? prepared = null;
                try
                {
                    prepared = await PrepareAsync(group, locked, next?.NextNonce ?? inFlight?.NextNonce).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // The database failed (or a bug): every submission of the group not yet answered gets the error, as each alone would have.
                    Fail(group, e);
                }
                next = next is null ? prepared : prepared is null ? next : next.Then(prepared);
                if (inFlight is { Landed.IsCompleted: false } && next is not null && next.Entries.Count < MaxBatch)
                {
                    continue;
                }
            }
            else
            {
                locked?.Dispose();
                if (inFlight is { Landed.IsCompleted: false } && (next?.Entries.Count ?? 0) < MaxBatch && await _arrived.KickedBeforeAsync(inFlight.Landed).ConfigureAwait(false))
                {
                    // Something arrived while the flight is out: prepare it now rather than after the landing.
                    continue;
                }
            }
            if (inFlight is not null)
            {
                await inFlight.Landed.ConfigureAwait(false);
                inFlight = null;
            }
            if (next is not null)
            {
                metrics.SubmissionGroup(next.Entries.Count);
                inFlight = new InFlight(FlyAsync(next), next.NextNonce, next.Keys);
                next = null;
                continue;
            }
            if (group.Count == 0 && carried.Count == 0 && _queue.IsEmpty)
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

    /// <summary>Adds a submission to the group, unless its caller gave up, or its Idempotency-Key is already in the group or in flight (then it waits for a later one).</summary>
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

    private static void Fail(IEnumerable<QueuedSubmission> group, Exception e)
    {
        foreach (var queued in group)
        {
            queued.Outcome.TrySetException(e);
        }
    }

    /// <summary>
    /// The first half of a group: answers the replays, then signs and stores the new jobs; null when nothing is left to
    /// broadcast. With no group in flight it holds the sender's lock (<paramref name="locked"/>) and hands it to the
    /// flight, as a lone group always did; with one in flight, it signs from <paramref name="aheadNonce"/> without the
    /// lock. Its rows are held from the outbox worker until the flight has recorded them. From here a group runs to its
    /// end even if clients hang up: stored jobs must get their outcome recorded.
    /// </summary>
    private async Task<Prepared?> PrepareAsync(List<QueuedSubmission> group, IDisposable? locked, ulong? aheadNonce)
    {
        var cancellationToken = CancellationToken.None;
        HeldOutboxRows.Hold? hold = null;
        Prepared? prepared = null;
        try
        {
            var stage = System.Diagnostics.Stopwatch.GetTimestamp();
            var fresh = await AnswerReplaysAsync(group, cancellationToken).ConfigureAwait(false);
            stage = metrics.SubmissionStage("replays", stage);
            if (fresh.Count == 0)
            {
                return null;
            }

            var now = Now;
            var entries = fresh.Select(queued => Entry.Create(queued, NewJobId(), now)).ToList();
            hold = held.HoldNew();
            IReadOnlyList<SignedTransaction> signed;
            try
            {
                var bodies = entries.Select(e => (TxBody)e.Body).ToList();
                signed = locked is null && aheadNonce is { } next ? sender.SignAhead(bodies, next) : await sender.SignManyAsync(bodies, cancellationToken).ConfigureAwait(false);
            }
            catch (Client.Node.NodeClientException e)
            {
                logger.LogWarning("cannot sign submit_job: {Error}", e.Message);
                foreach (var entry in entries)
                {
                    metrics.Submission("unavailable");
                    entry.Queued.Outcome.TrySetResult(new SubmitOutcome.ChainUnavailable(e.Message));
                }
                return null;
            }
            for (var i = 0; i < entries.Count; i++)
            {
                var tx = signed[i];
                entries[i].Row = new OutboxRecord(0, entries[i].Job.Id, OutboxKind.SubmitJob, JsonSerializer.Serialize(entries[i].Body, WireJson.Options), OutboxStatus.Pending, 0, null,
                    tx.Tx.Nonce, Convert.ToBase64String(tx.WireBytes), tx.Hash, null, now, now, null);
                entries[i].Tx = tx;
            }
            stage = metrics.SubmissionStage("sign", stage);
            var stored = await StoreAsync(entries, cancellationToken).ConfigureAwait(false);
            metrics.SubmissionStage("store", stage);
            if (stored.Count == 0)
            {
                return null;
            }
            hold.Narrow(stored.Select(e => e.Row.Id));
            prepared = new Prepared(stored, locked, [hold], signed[^1].Tx.Nonce + 1);
            return prepared;
        }
        finally
        {
            if (prepared is null)
            {
                locked?.Dispose();
                hold?.Dispose();
            }
        }
    }

    /// <summary>Stores the group's jobs with their rows in one transaction; returns the entries stored, with their row ids.</summary>
    private async Task<List<Entry>> StoreAsync(List<Entry> entries, CancellationToken cancellationToken)
    {
        try
        {
            var rowIds = await store.InsertJobsAsync([.. entries.Select(e => (e.Job, e.Row))], cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < entries.Count; i++)
            {
                entries[i].Row = entries[i].Row with { Id = rowIds[i] };
            }
            return entries;
        }
        catch (System.Data.Common.DbException) when (entries.Any(e => e.Queued.IdempotencyKey is not null))
        {
            // Another coordinator process sharing the database stored a job with one of these keys between our check and
            // our insert, and the unique index refused the whole group. Nothing was broadcast (no nonce is spent): store
            // them one at a time, so that the raced one answers as a retry and the others go ahead. The nonce gap a raced
            // one leaves is signed over at the broadcast, as after a refusal.
            if (entries.Count == 1)
            {
                var only = entries[0].Queued;
                if (await store.FindJobByIdempotencyKeyAsync(only.Caller.KeyId, only.IdempotencyKey!, cancellationToken).ConfigureAwait(false) is not { } raced)
                {
                    throw;
                }
                only.Outcome.TrySetResult(Replay(raced, only.RequestHash));
                return [];
            }
        }
        var stored = new List<Entry>(entries.Count);
        foreach (var entry in entries)
        {
            stored.AddRange(await StoreAsync([entry], cancellationToken).ConfigureAwait(false));
        }
        return stored;
    }

    /// <summary>The second half of a group: broadcasts it under the sender's lock, then records the outcomes and answers the callers. Never throws.</summary>
    private async Task FlyAsync(Prepared prepared)
    {
        var cancellationToken = CancellationToken.None;
        var entries = prepared.Entries;
        try
        {
            var stage = System.Diagnostics.Stopwatch.GetTimestamp();
            IReadOnlyList<Delivery> deliveries;
            using (prepared.Lock ?? await sender.LockAsync(cancellationToken).ConfigureAwait(false))
            {
                stage = metrics.SubmissionStage("lock", stage);
                // A refusal in the middle leaves a nonce gap the node will not bridge: the ones after it are re-signed.
                deliveries = await sender.SendManyAsync([.. entries.Select(e => e.Row.Id)], [.. entries.Select(e => (TxBody)e.Body)], [.. entries.Select(e => e.Tx)],
                    outbox.Backoff, MaxNonceRetries, cancellationToken).ConfigureAwait(false);
            }
            for (var i = 0; i < entries.Count; i++)
            {
                entries[i].Delivery = deliveries[i];
            }
            stage = metrics.SubmissionStage("broadcast", stage);
            await RecordAsync(entries).ConfigureAwait(false);
            metrics.SubmissionStage("record", stage);
        }
        catch (Exception e)
        {
            // The rows stay pending with their signed bytes: the outbox worker delivers them once the hold is gone.
            Fail(entries.Select(e => e.Queued), e);
        }
        finally
        {
            foreach (var hold in prepared.Holds)
            {
                hold.Dispose();
            }
        }
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

    /// <summary>Groups signed and stored, waiting for their flight: the sender's lock when the first took it, the holds on their rows, and the nonce after the last.</summary>
    private sealed record Prepared(List<Entry> Entries, IDisposable? Lock, List<HeldOutboxRows.Hold> Holds, ulong NextNonce)
    {
        public HashSet<(string, string)> Keys => [.. Entries.Where(e => e.Queued.IdempotencyKey is not null).Select(e => (e.Queued.Caller.KeyId, e.Queued.IdempotencyKey!))];

        /// <summary>These groups followed by <paramref name="later"/> (signed from <see cref="NextNonce"/> on), for one flight.</summary>
        public Prepared Then(Prepared later) => new([.. Entries, .. later.Entries], Lock ?? later.Lock, [.. Holds, .. later.Holds], later.NextNonce);
    }

    /// <summary>The group in flight: its task (never faults), the nonce it leaves next if all goes well, and its Idempotency-Keys.</summary>
    private sealed record InFlight(Task Landed, ulong NextNonce, HashSet<(string, string)> Keys);

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
