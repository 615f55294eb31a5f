using System.Text.Json;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Storage;
using Aitbc.Core.Json;
using Aitbc.Core.Threading;
using Aitbc.Core.Transactions;
using Microsoft.Extensions.Logging;

namespace Aitbc.Coordinator.Chain;

/// <summary>Wakes the outbox worker when a row is queued, so a refund does not wait for the next poll.</summary>
public sealed class OutboxSignal : WakeSignal;

/// <summary>
/// Moves outbox rows toward the chain, oldest first: delivers due rows, records each outcome on the row (and on its job
/// when the chain refuses a job's escrow), and follows sent rows until their block.
/// </summary>
public sealed class OutboxProcessor(
    ChainSender sender,
    HeldOutboxRows held,
    Client.Node.NodeClient node,
    ICoordinatorStore store,
    JobSignals signals,
    CoordinatorMetrics metrics,
    CoordinatorOptions options,
    ILogger<OutboxProcessor> logger)
{
    private TimeProvider Time => options.Time;

    private long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Rows signed and broadcast together at most by one pump.</summary>
    private const int PumpBatch = 256;

    /// <summary>
    /// Delivers the oldest due rows; false when none was due or a delivery must wait (then later rows wait too, to keep
    /// order). A row signed before (its bytes may be on chain already) goes alone through <see cref="ChainSender.DeliverAsync"/>;
    /// the never-signed rows at the head of the queue (settlements: at most one per job, so none depends on another) are
    /// signed with consecutive nonces, recorded in one transaction and broadcast as one batch.
    /// </summary>
    public async Task<bool> PumpOnceAsync(CancellationToken cancellationToken)
    {
        using var hold = await sender.LockAsync(cancellationToken).ConfigureAwait(false);
        // Read under the lock: the request path may have just sent (or deleted) these rows while we waited.
        var due = held.Deliverable(await store.DueOutboxAsync(Now, PumpBatch, cancellationToken).ConfigureAwait(false));
        if (due.Count == 0)
        {
            return false;
        }
        var fresh = due.TakeWhile(r => r.TxHash is null).ToList();
        if (fresh.Count <= 1)
        {
            var row = due[0];
            var delivery = await sender.DeliverAsync(row, cancellationToken).ConfigureAwait(false);
            await ApplyAsync(row, delivery, cancellationToken).ConfigureAwait(false);
            return delivery is not Delivery.Transient;
        }

        var bodies = fresh.Select(r => (TxBody)(JsonSerializer.Deserialize(r.BodyJson, TxType.BodyType(r.Kind), WireJson.Options)
            ?? throw new InvalidDataException($"outbox row {r.Id} has an empty body"))).ToList();
        IReadOnlyList<SignedTransaction> txs;
        try
        {
            txs = await sender.SignManyAsync(bodies, cancellationToken).ConfigureAwait(false);
        }
        catch (Client.Node.NodeClientException e)
        {
            logger.LogWarning("outbox rows from {Row}: node unavailable: {Error}", fresh[0].Id, e.Message);
            await ApplyAsync(fresh[0], new Delivery.Transient(e.Message), cancellationToken).ConfigureAwait(false);
            return false;
        }
        await store.MarkOutboxSignedAsync([.. fresh.Select((r, i) => new OutboxSignature(r.Id, txs[i].Tx.Nonce, Convert.ToBase64String(txs[i].WireBytes), txs[i].Hash))],
            Now, cancellationToken).ConfigureAwait(false);
        // No waiting here for a stale nonce: such rows back off like any undecided delivery.
        var deliveries = await sender.SendManyAsync([.. fresh.Select(r => r.Id)], bodies, txs, Backoff, maxStaleRetries: 0, cancellationToken).ConfigureAwait(false);
        await ApplyManyAsync(fresh, deliveries, cancellationToken).ConfigureAwait(false);
        return !deliveries.Any(d => d is Delivery.Transient);
    }

    /// <summary>
    /// <see cref="ApplyAsync"/> for several rows: the admitted ones marked sent in one transaction, the ones found in a
    /// block closed in one; anything else (rare) row by row.
    /// </summary>
    public async Task ApplyManyAsync(IReadOnlyList<OutboxRecord> rows, IReadOnlyList<Delivery> deliveries, CancellationToken cancellationToken)
    {
        var now = Now;
        var sent = new List<long>();
        var closes = new List<OutboxClose>();
        for (var i = 0; i < rows.Count; i++)
        {
            switch (deliveries[i])
            {
                case Delivery.Sent:
                    metrics.OutboxDelivery(rows[i].Kind, deliveries[i]);
                    sent.Add(rows[i].Id);
                    break;
                case Delivery.Committed c when !FailsJob(rows[i], c):
                    metrics.OutboxDelivery(rows[i].Kind, c);
                    closes.Add(new OutboxClose(rows[i].Id, OutboxStatus.Committed, c.Height, c.Code == TxCode.Ok ? null : $"{c.Code}: {c.Log}"));
                    break;
            }
        }
        if (sent.Count > 0)
        {
            await store.MarkOutboxSentAsync(sent, now, cancellationToken).ConfigureAwait(false);
        }
        if (closes.Count > 0)
        {
            await store.CloseOutboxAsync(closes, now, cancellationToken).ConfigureAwait(false);
        }
        for (var i = 0; i < rows.Count; i++)
        {
            switch (deliveries[i])
            {
                case Delivery.Sent:
                    break;
                case Delivery.Committed c when !FailsJob(rows[i], c):
                    if (rows[i].Kind == OutboxKind.RecordReceipt)
                    {
                        await ObserveReceiptAsync(rows[i], now, cancellationToken).ConfigureAwait(false);
                    }
                    break;
                default:
                    await ApplyAsync(rows[i], deliveries[i], cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>A submit_job admitted by CheckTx can still fail in its block (the client spent the funds meanwhile): then its job fails.</summary>
    private static bool FailsJob(OutboxRecord row, Delivery.Committed c) => row.Kind == OutboxKind.SubmitJob && c.Code is not (TxCode.Ok or TxCode.AlreadyExists);

    private async Task ObserveReceiptAsync(OutboxRecord row, long now, CancellationToken cancellationToken)
    {
        if (await store.GetJobAsync(row.JobId, cancellationToken).ConfigureAwait(false) is { CompletedAt: { } completedAt })
        {
            metrics.ReceiptCommitted(TimeSpan.FromMilliseconds(Math.Max(0, now - completedAt)));
        }
    }

    /// <summary>Sent rows looked at per confirmation pass.</summary>
    private const int ConfirmBatch = 1000;

    /// <summary>Blocks read per pass at most; a longer gap (a restart, a long outage) falls back to asking per row.</summary>
    private const int MaxBlocksPerPass = 50;

    /// <summary>Committed transactions remembered from the blocks read, so rows sent late in a pass still find theirs.</summary>
    private const int RememberedTxs = 200_000;

    private readonly Dictionary<string, Delivery.Committed> _committed = new(StringComparer.Ordinal);
    private readonly Queue<string> _committedOrder = new();
    private long? _scannedHeight;

    /// <summary>
    /// Follows sent rows to their block: reads each new block's transactions and results once (three calls a block,
    /// however many rows are waiting) and closes the rows found there with their height; a row not seen in a block
    /// read — and every row on the first pass after a start, or after a gap of more than <see cref="MaxBlocksPerPass"/>
    /// blocks — is asked about on its own once it is older than <see cref="CoordinatorOptions.ResendAfter"/>, and queued
    /// again when the chain does not have it.
    /// </summary>
    public async Task ConfirmAsync(CancellationToken cancellationToken)
    {
        var rows = await store.SentOutboxAsync(ConfirmBatch, cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            return;
        }
        var perRow = false;
        try
        {
            var height = (await node.GetStatusAsync(cancellationToken).ConfigureAwait(false)).LatestBlockHeight;
            if (_scannedHeight is not { } scanned || height - scanned > MaxBlocksPerPass)
            {
                // Blocks before this height are not read: rows already in them are found by asking per row below.
                perRow = true;
                _scannedHeight = height;
            }
            else
            {
                for (var h = scanned + 1; h <= height; h++)
                {
                    await ReadBlockAsync(h, cancellationToken).ConfigureAwait(false);
                    _scannedHeight = h;
                }
            }
        }
        catch (Client.Node.NodeClientException e)
        {
            // The node is down: the rows wait, and deliveries already log the outage.
            logger.LogDebug("cannot confirm outbox rows: {Error}", e.Message);
            return;
        }

        // Asking per row stops at the first row not yet in a block: the later ones are younger, and land in blocks read later.
        var asking = perRow;
        var found = rows.Where(r => _committed.ContainsKey(r.TxHash!)).ToList();
        // The rows found in the blocks read are closed together: one transaction however many a block held.
        await ApplyManyAsync(found, [.. found.Select(r => (Delivery)_committed[r.TxHash!])], cancellationToken).ConfigureAwait(false);
        foreach (var row in rows)
        {
            if (_committed.ContainsKey(row.TxHash!))
            {
                continue;
            }
            var overdue = row.SentAt is { } sentAt && Now - sentAt > (long)options.ResendAfter.TotalMilliseconds;
            if (!asking && !overdue)
            {
                continue;
            }
            Client.Node.TxInfo? landed;
            try
            {
                landed = await node.GetTxAsync(row.TxHash!, cancellationToken).ConfigureAwait(false);
            }
            catch (Client.Node.NodeClientException e)
            {
                logger.LogDebug("cannot confirm outbox rows: {Error}", e.Message);
                return;
            }
            if (landed is not null)
            {
                await ApplyAsync(row, new Delivery.Committed(landed.Height, landed.Result.Code, landed.Result.Log), cancellationToken).ConfigureAwait(false);
            }
            else if (!overdue)
            {
                asking = false;
            }
            else
            {
                logger.LogWarning("outbox row {Row} ({Kind} for job {JobId}) sent {Seconds} s ago is not in a block; sending it again",
                    row.Id, row.Kind, row.JobId, (Now - row.SentAt!.Value) / 1000);
                await store.RequeueOutboxAsync(row.Id, Now, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task ReadBlockAsync(long height, CancellationToken cancellationToken)
    {
        var block = await node.GetBlockAsync(height, cancellationToken).ConfigureAwait(false);
        if (block.Txs.Count == 0)
        {
            return;
        }
        var results = await node.GetBlockResultsAsync(height, cancellationToken).ConfigureAwait(false);
        var hashes = block.TxHashes;
        for (var i = 0; i < hashes.Count && i < results.TxsResults.Count; i++)
        {
            if (_committed.TryAdd(hashes[i], new Delivery.Committed(height, results.TxsResults[i].Code, results.TxsResults[i].Log)))
            {
                _committedOrder.Enqueue(hashes[i]);
            }
        }
        while (_committedOrder.Count > RememberedTxs)
        {
            _committed.Remove(_committedOrder.Dequeue());
        }
    }

    /// <summary>The earliest time a pending row is due, or null when none waits (or the first one waiting is held by the submission writer, whose release wakes the worker).</summary>
    public async Task<long?> NextDueAsync(CancellationToken cancellationToken)
    {
        return await store.OutboxHeadAsync(cancellationToken).ConfigureAwait(false) is { } head && !held.Holds(head) ? head.NotBefore : null;
    }

    /// <summary>Records <paramref name="delivery"/> on its row, and fails the job when the chain refused its escrow.</summary>
    public async Task ApplyAsync(OutboxRecord row, Delivery delivery, CancellationToken cancellationToken)
    {
        var now = Now;
        if (delivery is Delivery.Refused { Code: TxCode.UnknownJob } unknown && row.Kind is OutboxKind.RecordReceipt or OutboxKind.RefundJob
            && await UnsettledSubmitAsync(row.JobId, cancellationToken).ConfigureAwait(false) is { } submit)
        {
            // No escrow yet, but the job's submit_job is not settled: it may still be in the mempool, or lost from it by a
            // node restart. Closing this row now would leave the escrow, once it lands, open for good; so send the
            // submit_job again first (a copy still in the mempool is answered as a duplicate) and this row after it.
            logger.LogWarning("outbox row {Row} ({Kind} for job {JobId}): the chain has no escrow yet; sending its submit_job (row {Submit}) again first",
                row.Id, row.Kind, row.JobId, submit.Id);
            await store.RequeueOutboxAsync(submit.Id, now, cancellationToken).ConfigureAwait(false);
            delivery = new Delivery.Transient($"{unknown.Code}: {unknown.Log}");
        }
        metrics.OutboxDelivery(row.Kind, delivery);
        switch (delivery)
        {
            case Delivery.Sent:
                await store.MarkOutboxSentAsync(row.Id, now, cancellationToken).ConfigureAwait(false);
                break;
            case Delivery.Committed c:
                var note = c.Code == TxCode.Ok ? null : $"{c.Code}: {c.Log}";
                await store.CloseOutboxAsync(row.Id, OutboxStatus.Committed, c.Height, note, now, cancellationToken).ConfigureAwait(false);
                if (row.Kind == OutboxKind.RecordReceipt)
                {
                    await ObserveReceiptAsync(row, now, cancellationToken).ConfigureAwait(false);
                }
                if (FailsJob(row, c))
                {
                    await FailJobAsync(row.JobId, $"the chain refused the job's escrow: {c.Log}", now, cancellationToken).ConfigureAwait(false);
                }
                break;
            case Delivery.AlreadyDone d:
                logger.LogInformation("outbox row {Row} ({Kind} for job {JobId}) was already done on chain: {Log}", row.Id, row.Kind, row.JobId, d.Log);
                await store.CloseOutboxAsync(row.Id, OutboxStatus.Committed, null, $"already done: {d.Code}: {d.Log}", now, cancellationToken).ConfigureAwait(false);
                break;
            case Delivery.Refused r:
                logger.LogWarning("outbox row {Row} ({Kind} for job {JobId}) refused by the chain: {Code} {Log}", row.Id, row.Kind, row.JobId, r.Code, r.Log);
                await store.CloseOutboxAsync(row.Id, OutboxStatus.Refused, null, $"{r.Code}: {r.Log}", now, cancellationToken).ConfigureAwait(false);
                if (row.Kind == OutboxKind.SubmitJob)
                {
                    await FailJobAsync(row.JobId, $"the chain refused the job's escrow: {r.Log}", now, cancellationToken).ConfigureAwait(false);
                }
                break;
            case Delivery.Transient t:
                var backoff = Backoff(row.Attempts + 1);
                await store.MarkOutboxRetryAsync(row.Id, t.Error, now + (long)backoff.TotalMilliseconds, now, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>The job's submit_job row while it is still pending or sent (not yet known to be in a block), else null.</summary>
    private async Task<OutboxRecord?> UnsettledSubmitAsync(string jobId, CancellationToken cancellationToken) =>
        (await store.OutboxForJobAsync(jobId, cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(o => o.Kind == OutboxKind.SubmitJob && o.Status is OutboxStatus.Pending or OutboxStatus.Sent);

    /// <summary>Doubling from the base delay, capped: attempt 1 waits the base.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var factor = Math.Pow(2, Math.Min(attempt - 1, 20));
        var delay = options.OutboxBaseBackoff * factor;
        return delay > options.OutboxMaxBackoff ? options.OutboxMaxBackoff : delay;
    }

    private async Task FailJobAsync(string jobId, string error, long now, CancellationToken cancellationToken)
    {
        if (await store.FailJobAsync(jobId, error, now, cancellationToken).ConfigureAwait(false))
        {
            signals.Notify(jobId);
        }
    }
}
