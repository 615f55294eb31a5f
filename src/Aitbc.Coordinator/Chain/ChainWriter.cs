using System.Text.Json;
using Aitbc.Client.Node;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Storage;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;
using Aitbc.Core.Transactions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aitbc.Coordinator.Chain;

/// <summary>
/// The one owner of the coordinator's key, its nonce and the outbox. Everyone else only stores rows (a new job with its
/// submit_job, a refund, a receipt) and kicks <see cref="OutboxSignal"/>; this writer takes whatever is queued, in id
/// order, signs it as one group with consecutive nonces, records each one's nonce and hash on its row in one
/// transaction, broadcasts the group as one JSON-RPC batch, records the outcomes, and follows sent rows to their block.
/// It runs only while this process holds the <see cref="IWriterRole"/>, so coordinators sharing a database never sign
/// with one key at once.
/// </summary>
/// <remarks>
/// Crash safety: a transaction's nonce and hash are on its row before it is broadcast, so whoever writes next finds it by
/// hash and sends the same bytes again (Ed25519 is deterministic: the body signed at that nonce gives those bytes; a copy
/// still in the mempool is answered as a duplicate). A row is never signed afresh before its old hash is looked up on
/// chain, and the chain refuses a second escrow, receipt or refund for a job, so nothing is ever paid twice. The nonce is counted locally and re-read from the chain whenever the count may be wrong.
/// </remarks>
public sealed partial class ChainWriter(
    NodeClient node,
    Ed25519KeyPair key,
    ICoordinatorStore store,
    IWriterRole role,
    OutboxSignal signal,
    SubmitDecisions decisions,
    JobSignals signals,
    Scheduling.SchedulerSignal scheduler,
    CoordinatorMetrics metrics,
    CoordinatorOptions options,
    ILogger<ChainWriter> logger) : BackgroundService
{
    /// <summary>Rows signed and broadcast together at most (the node takes up to 1,000 calls in a batch).</summary>
    internal const int MaxBatch = 256;

    /// <summary>Times a group refused for a stale nonce (the chain's count lags its mempool) is signed again before it is left to back off.</summary>
    private const int MaxStaleRetries = 3;

    /// <summary>
    /// How often the writer follows sent rows to their block while flights follow one another, and at least while rows
    /// wait for one: a completed job's result waits for its escrow's block. A pass that finds no new block costs one call.
    /// </summary>
    private const long ConfirmEveryMs = 50;

    /// <summary>Taken by each step (a pump, a confirmation pass), so that a test driving a step runs alone.</summary>
    private readonly SemaphoreSlim _turn = new(1, 1);
    private ulong? _nextNonce;
    private string? _chainId;

    private TimeProvider Time => options.Time;

    private long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            IWriterLease lease;
            try
            {
                lease = await role.AcquireAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("cannot take the chain writer role: {Error}", e.Message);
                await DelayAsync(options.OutboxMaxBackoff, stoppingToken).ConfigureAwait(false);
                continue;
            }
            await using (lease.ConfigureAwait(false))
            {
                using var held = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lease.Lost);
                logger.LogInformation("chain writer for {Address} started", key.Address);
                metrics.Writer(true);
                try
                {
                    await RunAsync(held.Token).ConfigureAwait(false);
                }
                finally
                {
                    metrics.Writer(false);
                }
                if (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("chain writer for {Address} lost its role", key.Address);
                }
            }
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        // Another process may have written since this one last did: nothing known about the chain carries over.
        _nextNonce = null;
        ForgetScannedBlocks();
        TakeHandOffs(true);
        try
        {
            await RunFlightsAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            TakeHandOffs(false);
        }
    }

    private async Task RunFlightsAsync(CancellationToken cancellationToken)
    {
        var confirmedAt = long.MinValue;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var busy = await PumpOnceAsync(options.SendSettlements, cancellationToken).ConfigureAwait(false);
                // Under a stream of submissions the writer pumps again at once; blocks are followed between flights, but
                // not after every one (each pass reads the sent rows and asks the node for its height). Escrows are followed
                // even when settlements are held back: a completed job's result waits for its escrow's block.
                if (!busy || Now - confirmedAt >= ConfirmEveryMs)
                {
                    await ConfirmAsync(cancellationToken).ConfigureAwait(false);
                    confirmedAt = Now;
                }
                if (!busy)
                {
                    await WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Node outages are handled per row; this is the database or a bug. Keep going: the rows stay queued.
                logger.LogError(e, "chain writer pass failed");
                await DelayAsync(options.OutboxMaxBackoff, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, Time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task WaitAsync(CancellationToken cancellationToken)
    {
        var delay = options.OutboxPollInterval;
        if (AwaitingBlocks && delay > TimeSpan.FromMilliseconds(ConfirmEveryMs))
        {
            delay = TimeSpan.FromMilliseconds(ConfirmEveryMs);
        }
        if (options.SendSettlements && await store.OutboxHeadAsync(cancellationToken).ConfigureAwait(false) is { } head)
        {
            var untilDue = TimeSpan.FromMilliseconds(Math.Max(0, head.NotBefore - Now));
            delay = untilDue < delay ? untilDue : delay;
        }
        if (delay <= TimeSpan.Zero)
        {
            return;
        }
        await signal.WaitAsync(delay, Time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Holds the writer between steps until disposed: what is stored meanwhile goes out together in its next flight (tests).</summary>
    internal async Task<IDisposable> HoldAsync(CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(_turn);
    }

    /// <summary>
    /// One step: delivers the oldest due rows (only submit_job rows when <paramref name="settlements"/> is false); false
    /// when none was due or a delivery must wait (then later rows wait too, to keep each job's transactions in order). A
    /// row signed before (its bytes may be on chain already) goes alone through <see cref="DeliverAsync"/>; the
    /// never-signed rows at the head of the queue go as one flight (<see cref="FlyAsync"/>).
    /// </summary>
    internal async Task<bool> PumpOnceAsync(bool settlements, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stage = System.Diagnostics.Stopwatch.GetTimestamp();
            IReadOnlyList<OutboxRecord> due = await store.DueOutboxAsync(Now, MaxBatch, cancellationToken).ConfigureAwait(false);
            if (!settlements)
            {
                // A later job's escrow may pass an earlier job's settlement: only one job's rows must stay in order.
                due = [.. due.Where(r => r.Kind == OutboxKind.SubmitJob)];
            }
            metrics.WriterStage("read", stage);
            if (due.Count > 0 && due[0].TxHash is not null)
            {
                var row = due[0];
                var delivery = await DeliverAsync(row, cancellationToken).ConfigureAwait(false);
                await RecordAsync([row], [delivery], cancellationToken).ConfigureAwait(false);
                return delivery is not Delivery.Transient;
            }
            // New jobs need no place in the queue behind rows backing off: only each job's own rows must stay in order.
            var rows = due.TakeWhile(r => r.TxHash is null).ToList();
            var handed = DequeueHanded(MaxBatch - rows.Count);
            if (rows.Count == 0 && handed.Count == 0)
            {
                return false;
            }
            try
            {
                return await FlyAsync(rows, handed, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // A flight that failed before storing them gives them back; those stored or withdrawn already keep that.
                handed.ForEach(h => h.Outcome.TrySetResult(HandOffResult.NotTaken));
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>
    /// Signs never-signed rows with consecutive nonces, records their nonces and hashes in one transaction, broadcasts them as one
    /// batch and records the outcomes. A new job's escrow refused by the chain deletes the job (its submitter is told 402), and
    /// one that could not be signed for want of the node deletes it too (503); everyone waiting on a job's escrow hears.
    /// </summary>
    private async Task<bool> FlyAsync(List<OutboxRecord> queued, List<Handed> handed, CancellationToken cancellationToken)
    {
        var stage = System.Diagnostics.Stopwatch.GetTimestamp();
        // The flight's span (its broadcast to the node is a child), linked to the submissions of the jobs it escrows.
        using var activity = CoordinatorTracing.Source.HasListeners()
            ? CoordinatorTracing.Source.StartActivity("chain flight", System.Diagnostics.ActivityKind.Internal, parentContext: default, links: SubmissionLinks(handed))
            : null;
        activity?.SetTag("aitbc.rows", queued.Count + handed.Count);
        var rows = new List<OutboxRecord>(queued.Count + handed.Count);
        rows.AddRange(queued);
        rows.AddRange(handed.Select(h => h.Submit));
        metrics.WriterFlight(rows.Count);
        var bodies = rows.Select(Body).ToList();
        SignedTransaction[] txs;
        try
        {
            txs = await SignManyAsync(bodies, cancellationToken).ConfigureAwait(false);
        }
        catch (NodeClientException e)
        {
            logger.LogWarning("{Count} outbox rows: node unavailable: {Error}", rows.Count, e.Message);
            await RecordUnsignedAsync(queued, e.Message, cancellationToken).ConfigureAwait(false);
            decisions.Publish([.. handed.Select(h => (h.Job.Id, (SubmitDecision)new SubmitDecision.Unavailable(e.Message)))]);
            handed.ForEach(h => h.Outcome.TrySetResult(HandOffResult.Withdrawn));
            return false;
        }
        stage = metrics.WriterStage("sign", stage);
        // Recorded before the broadcast: after a crash the row's hash says whether these bytes landed. Jobs handed over are
        // inserted here, their rows already signed.
        // Not cancelled half-way: a submitter told its job was not taken stores it again, so "not stored" must be certain.
        var now = Now;
        IReadOnlyList<long> ids;
        try
        {
            ids = await store.StoreFlightAsync([.. queued.Select((r, i) => Signature(r.Id, txs[i]))],
                [.. handed.Select((h, k) => (h.Job, h.Submit with { Nonce = txs[queued.Count + k].Tx.Nonce, TxHash = txs[queued.Count + k].Hash }))],
                now, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (handed.Count > 0)
        {
            // One job handed over could not be stored (its Idempotency-Key taken meanwhile, say), and nothing was. Each is
            // stored alone, unsigned and in the order they came, so one at fault fails alone (its submitter hears why) and
            // the others fly next; nothing was broadcast, so the queued rows sign to the same bytes again.
            logger.LogDebug("a flight with {Count} jobs handed over could not be stored; storing them one by one: {Error}", handed.Count, e.Message);
            foreach (var h in handed)
            {
                try
                {
                    await store.InsertJobsAsync([(h.Job, h.Submit)], CancellationToken.None).ConfigureAwait(false);
                    h.Outcome.TrySetResult(HandOffResult.Stored);
                }
                catch (Exception one)
                {
                    h.Outcome.TrySetException(one);
                }
            }
            return true;
        }
        for (var k = 0; k < handed.Count; k++)
        {
            rows[queued.Count + k] = rows[queued.Count + k] with { Id = ids[k], Nonce = txs[queued.Count + k].Tx.Nonce, TxHash = txs[queued.Count + k].Hash };
            handed[k].Outcome.TrySetResult(HandOffResult.Stored);
        }
        stage = metrics.WriterStage("store", stage);
        var deliveries = await SendAsync(rows, bodies, txs, cancellationToken).ConfigureAwait(false);
        stage = metrics.WriterStage("broadcast", stage);
        await RecordAsync(rows, deliveries, cancellationToken).ConfigureAwait(false);
        metrics.WriterStage("record", stage);
        return !deliveries.Any(d => d is Delivery.Transient);
    }

    /// <summary>
    /// Records broadcast outcomes: admitted rows marked sent in one transaction, new jobs whose escrow the chain refused
    /// deleted in one (their submitters are told 402, as if the job never existed), the rest row by row; then whoever
    /// waits on a new job's escrow hears. A submit_job row that was never answered before (no attempt recorded) is a new
    /// job's first decision, whether it comes from its flight or, after a crash in the middle of one, from its redelivery.
    /// </summary>
    private async Task RecordAsync(IReadOnlyList<OutboxRecord> rows, IReadOnlyList<Delivery> deliveries, CancellationToken cancellationToken)
    {
        var sent = new List<long>();
        var sentHashes = new List<string>();
        var refusedJobs = new List<string>();
        var decided = new List<(string, SubmitDecision)>();
        var others = new List<(OutboxRecord Row, Delivery Delivery)>();
        for (var i = 0; i < rows.Count; i++)
        {
            var (row, delivery) = (rows[i], deliveries[i]);
            var first = row.Kind == OutboxKind.SubmitJob && row.Attempts == 0;
            if (first && delivery is Delivery.Refused refused)
            {
                metrics.OutboxDelivery(row.Kind, delivery);
                logger.LogInformation("escrow of job {JobId} refused: {Code} {Log}", row.JobId, refused.Code, refused.Log);
                refusedJobs.Add(row.JobId);
                decided.Add((row.JobId, new SubmitDecision.Refused(refused.Code, refused.Log)));
                continue;
            }
            if (first)
            {
                // Admitted, already on chain, or undecided (the row backs off and is sent again): the job stands.
                decided.Add((row.JobId, new SubmitDecision.Accepted()));
            }
            if (delivery is Delivery.Sent s)
            {
                metrics.OutboxDelivery(row.Kind, delivery);
                sent.Add(row.Id);
                sentHashes.Add(s.TxHash);
            }
            else
            {
                others.Add((row, delivery));
            }
        }
        if (sent.Count > 0)
        {
            await store.MarkOutboxSentAsync(sent, Now, cancellationToken).ConfigureAwait(false);
            NoteSent(sentHashes);
        }
        if (refusedJobs.Count > 0)
        {
            await store.DeleteJobsAsync(refusedJobs, cancellationToken).ConfigureAwait(false);
        }
        foreach (var (row, delivery) in others)
        {
            await ApplyAsync(row, delivery, cancellationToken).ConfigureAwait(false);
        }
        decisions.Publish(decided);
        if (decided.Any(d => d.Item2 is SubmitDecision.Accepted))
        {
            scheduler.Kick();
        }
    }

    /// <summary>Nothing of the group was signed (the node could not be asked): new jobs are withdrawn, settlements back off.</summary>
    private async Task RecordUnsignedAsync(List<OutboxRecord> rows, string error, CancellationToken cancellationToken)
    {
        var withdrawn = rows.Where(r => r.Kind == OutboxKind.SubmitJob).Select(r => r.JobId).ToList();
        if (withdrawn.Count > 0)
        {
            await store.DeleteJobsAsync(withdrawn, cancellationToken).ConfigureAwait(false);
        }
        foreach (var row in rows.Where(r => r.Kind != OutboxKind.SubmitJob))
        {
            await ApplyAsync(row, new Delivery.Transient(error), cancellationToken).ConfigureAwait(false);
        }
        decisions.Publish([.. withdrawn.Select(j => (j, (SubmitDecision)new SubmitDecision.Unavailable(error)))]);
    }

    private static TxBody Body(OutboxRecord row) =>
        (TxBody)(JsonSerializer.Deserialize(row.BodyJson, TxType.BodyType(row.Kind), WireJson.Options)
            ?? throw new InvalidDataException($"outbox row {row.Id} has an empty body"));

    private static OutboxSignature Signature(long rowId, SignedTransaction tx) => new(rowId, tx.Tx.Nonce, tx.Hash);

    /// <summary>Signs <paramref name="bodies"/> with consecutive nonces from the next one (read from the chain when unknown), in order.</summary>
    private async Task<SignedTransaction[]> SignManyAsync(IReadOnlyList<TxBody> bodies, CancellationToken cancellationToken)
    {
        _chainId ??= (await node.GetStatusAsync(cancellationToken).ConfigureAwait(false)).ChainId;
        _nextNonce ??= (await node.GetAccountAsync(key.Address, cancellationToken).ConfigureAwait(false)).NextNonce;
        var txs = new SignedTransaction[bodies.Count];
        for (var i = 0; i < bodies.Count; i++)
        {
            txs[i] = new UnsignedTransaction(_chainId, key.PublicKey, _nextNonce.Value + (ulong)i, bodies[i]).Sign(key);
        }
        return txs;
    }

    /// <summary>
    /// Broadcasts a flight and reads each verdict. Those the node saw as a nonce gap (after a refused one) or with a stale
    /// nonce are signed again from the nonce the chain wants, recorded on their rows before the next broadcast, and sent
    /// again: at once after a gap (each round settles at least the refused one), after a backoff when the count itself
    /// was wrong (at most <see cref="MaxStaleRetries"/> times; then they stay undecided and back off as rows).
    /// </summary>
    private async Task<IReadOnlyList<Delivery>> SendAsync(List<OutboxRecord> rows, List<TxBody> bodies, SignedTransaction[] txs, CancellationToken cancellationToken)
    {
        var deliveries = new Delivery[txs.Length];
        var sending = Enumerable.Range(0, txs.Length).ToList();
        var staleRetries = 0;
        while (true)
        {
            var results = await BroadcastManyAsync([.. sending.Select(i => txs[i])], cancellationToken).ConfigureAwait(false);
            for (var k = 0; k < sending.Count; k++)
            {
                deliveries[sending[k]] = results[k];
            }
            var again = sending.Where(i => deliveries[i] is Delivery.Transient { StaleNonce: true }).ToList();
            if (again.Count == 0)
            {
                return deliveries;
            }
            if (_nextNonce is null)
            {
                if (++staleRetries > MaxStaleRetries)
                {
                    return deliveries;
                }
                await Task.Delay(Backoff(staleRetries), Time, cancellationToken).ConfigureAwait(false);
            }
            SignedTransaction[] resigned;
            try
            {
                resigned = await SignManyAsync([.. again.Select(i => bodies[i])], cancellationToken).ConfigureAwait(false);
            }
            catch (NodeClientException e)
            {
                foreach (var i in again)
                {
                    deliveries[i] = new Delivery.Transient(e.Message);
                }
                return deliveries;
            }
            for (var k = 0; k < again.Count; k++)
            {
                txs[again[k]] = resigned[k];
            }
            // Recorded before the broadcast, as always: after a crash the row's hash says whether these bytes landed.
            await store.MarkOutboxSignedAsync([.. again.Select((i, k) => Signature(rows[i].Id, resigned[k]))], Now, cancellationToken).ConfigureAwait(false);
            sending = again;
        }
    }

    /// <summary>
    /// Broadcasts consecutive-nonce transactions as one JSON-RPC batch and reads each verdict, in order. The node admits
    /// only the next nonce, so after a refusal every later transaction comes back BadNonce (<see cref="Delivery.Transient"/>
    /// with StaleNonce): the caller signs those again from the refused one's nonce.
    /// </summary>
    private async Task<IReadOnlyList<Delivery>> BroadcastManyAsync(IReadOnlyList<SignedTransaction> txs, CancellationToken cancellationToken)
    {
        if (txs.Count == 1)
        {
            return [await BroadcastAsync(txs[0], cancellationToken).ConfigureAwait(false)];
        }
        IReadOnlyList<BatchBroadcastResult> results;
        try
        {
            results = await node.BroadcastTxSyncBatchAsync([.. txs.Select(t => t.WireBytes)], cancellationToken).ConfigureAwait(false);
        }
        catch (NodeClientException e)
        {
            _nextNonce = null;
            return [.. txs.Select(_ => (Delivery)new Delivery.Transient(e.Message))];
        }
        var deliveries = new Delivery[txs.Count];
        // What the chain expects next, walking the verdicts: an admitted tx moves it on, a refused one leaves it.
        var expected = txs[0].Tx.Nonce;
        var known = true;
        for (var i = 0; i < txs.Count; i++)
        {
            var nonce = txs[i].Tx.Nonce;
            if (results[i].Result is not { } result)
            {
                // The node answered this call with an error (a follower that could not forward it): whether it landed is unknown.
                deliveries[i] = new Delivery.Transient(results[i].Error ?? "no answer");
                known = false;
                continue;
            }
            deliveries[i] = Classify(result.Code, result.Log, txs[i].Hash);
            if (deliveries[i] is Delivery.Sent)
            {
                expected = nonce + 1;
            }
            else if (result.Code == TxCode.BadNonce && nonce == expected)
            {
                // Refused at the very nonce we expected the chain to want: our count is wrong, not a gap left by a refusal.
                known = false;
            }
        }
        _nextNonce = known ? expected : null;
        return deliveries;
    }

    private async Task<Delivery> BroadcastAsync(SignedTransaction tx, CancellationToken cancellationToken)
    {
        BroadcastResult result;
        try
        {
            result = await node.BroadcastTxSyncAsync(tx.WireBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (NodeClientException e)
        {
            // Whether it reached the mempool is unknown: the chain, not our count, decides the next nonce.
            _nextNonce = null;
            return new Delivery.Transient(e.Message);
        }
        var delivery = Classify(result.Code, result.Log, tx.Hash);
        if (delivery is Delivery.Sent)
        {
            _nextNonce = tx.Tx.Nonce + 1;
        }
        else if (result.Code == TxCode.BadNonce)
        {
            _nextNonce = null;
        }
        return delivery;
    }

    /// <summary>
    /// Delivers one row signed before: first asks the chain whether those bytes landed and rebroadcasts them; only when
    /// their nonce went to something else is the body signed afresh (recorded on the row before it is broadcast).
    /// </summary>
    private async Task<Delivery> DeliverAsync(OutboxRecord row, CancellationToken cancellationToken)
    {
        try
        {
            if (row.TxHash is { } hash && row.Nonce is { } signedNonce)
            {
                if (await node.GetTxAsync(hash, cancellationToken).ConfigureAwait(false) is { } landed)
                {
                    return new Delivery.Committed(landed.Height, landed.Result.Code, landed.Result.Log);
                }
                // Ed25519 is deterministic: the body signed at the row's nonce again is the very transaction signed before.
                _chainId ??= (await node.GetStatusAsync(cancellationToken).ConfigureAwait(false)).ChainId;
                var again = new UnsignedTransaction(_chainId, key.PublicKey, signedNonce, Body(row)).Sign(key);
                if (again.Hash != hash)
                {
                    // Signed for another chain (or by another key): those bytes cannot land here; sign afresh below.
                    logger.LogWarning("outbox row {Row} ({Kind} for job {JobId}): its transaction {Hash} was not signed for this chain and key; signing it afresh",
                        row.Id, row.Kind, row.JobId, hash);
                    return await SignAfreshAsync(row, cancellationToken).ConfigureAwait(false);
                }
                var old = await node.BroadcastTxSyncAsync(again.WireBytes, cancellationToken).ConfigureAwait(false);
                if (old.Code != TxCode.BadNonce)
                {
                    var delivery = Classify(old.Code, old.Log, hash);
                    if (delivery is Delivery.Sent && row.Nonce is { } n && (_nextNonce is null || _nextNonce <= n))
                    {
                        _nextNonce = n + 1;
                    }
                    return delivery;
                }
                // Its nonce is spent: by these very bytes committing just now, or by another transaction.
                if (await node.GetTxAsync(hash, cancellationToken).ConfigureAwait(false) is { } justLanded)
                {
                    return new Delivery.Committed(justLanded.Height, justLanded.Result.Code, justLanded.Result.Log);
                }
                _nextNonce = null;
            }
            return await SignAfreshAsync(row, cancellationToken).ConfigureAwait(false);
        }
        catch (NodeClientException e)
        {
            _nextNonce = null;
            logger.LogWarning("outbox row {Row} ({Kind} for job {JobId}): node unavailable: {Error}", row.Id, row.Kind, row.JobId, e.Message);
            return new Delivery.Transient(e.Message);
        }
    }

    /// <summary>Signs a row's body at the next nonce, records the signature on the row, then broadcasts it.</summary>
    private async Task<Delivery> SignAfreshAsync(OutboxRecord row, CancellationToken cancellationToken)
    {
        var tx = (await SignManyAsync([Body(row)], cancellationToken).ConfigureAwait(false))[0];
        await store.MarkOutboxSignedAsync([Signature(row.Id, tx)], Now, cancellationToken).ConfigureAwait(false);
        return await BroadcastAsync(tx, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a CheckTx verdict: which refusals are final, which mean "already done", which deserve another try.</summary>
    public static Delivery Classify(TxCode code, string log, string hash) => code switch
    {
        TxCode.Ok or TxCode.DuplicateTx => new Delivery.Sent(hash),
        // submit_job for a job whose escrow exists; receipt or refund for a closed escrow: the effect is on chain.
        TxCode.AlreadyExists or TxCode.EscrowClosed => new Delivery.AlreadyDone(code, log),
        TxCode.BadNonce => new Delivery.Transient($"{code}: {log}", StaleNonce: true),
        TxCode.MempoolFull => new Delivery.Transient($"{code}: {log}"),
        _ => new Delivery.Refused(code, log),
    };

    /// <summary>A submit_job admitted by CheckTx can still fail in its block (the client spent the funds meanwhile): then its job fails.</summary>
    private static bool FailsJob(OutboxRecord row, Delivery.Committed c) => row.Kind == OutboxKind.SubmitJob && c.Code is not (TxCode.Ok or TxCode.AlreadyExists);

    /// <summary>Records <paramref name="delivery"/> on its row, and fails the job when the chain refused its escrow.</summary>
    internal async Task ApplyAsync(OutboxRecord row, Delivery delivery, CancellationToken cancellationToken)
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
            case Delivery.Sent s:
                await store.MarkOutboxSentAsync(row.Id, now, cancellationToken).ConfigureAwait(false);
                NoteSent([s.TxHash]);
                break;
            case Delivery.Committed c:
                var note = c.Code == TxCode.Ok ? null : $"{c.Code}: {c.Log}";
                await CloseAsync(new OutboxClose(row.Id, OutboxStatus.Committed, c.Height, note, EscrowOf(row, c.Code)), now, cancellationToken).ConfigureAwait(false);
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
                await CloseAsync(new OutboxClose(row.Id, OutboxStatus.Committed, null, $"already done: {d.Code}: {d.Log}", EscrowOf(row, d.Code)), now, cancellationToken).ConfigureAwait(false);
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

    private async Task CloseAsync(OutboxClose close, long now, CancellationToken cancellationToken)
    {
        await store.CloseOutboxAsync([close], now, cancellationToken).ConfigureAwait(false);
        NotifyEscrows([close]);
    }

    /// <summary>The job whose escrow a row's transaction opened on chain: a submit_job that executed, or found its escrow there already.</summary>
    private static string? EscrowOf(OutboxRecord row, TxCode code) =>
        row.Kind == OutboxKind.SubmitJob && code is TxCode.Ok or TxCode.AlreadyExists ? row.JobId : null;

    /// <summary>Wakes whoever waits on jobs whose escrow is now known to be in a block: a completed one's result is released now.</summary>
    private void NotifyEscrows(IEnumerable<OutboxClose> closes)
    {
        foreach (var close in closes)
        {
            if (close.EscrowOf is { } jobId)
            {
                signals.Notify(jobId);
            }
        }
    }

    private async Task ObserveReceiptAsync(OutboxRecord row, long now, CancellationToken cancellationToken)
    {
        if (await store.GetJobAsync(row.JobId, cancellationToken).ConfigureAwait(false) is { CompletedAt: { } completedAt })
        {
            metrics.ReceiptCommitted(TimeSpan.FromMilliseconds(Math.Max(0, now - completedAt)));
        }
    }

    /// <summary>The job's submit_job row while it is still pending or sent (not yet known to be in a block), else null.</summary>
    private async Task<OutboxRecord?> UnsettledSubmitAsync(string jobId, CancellationToken cancellationToken) =>
        (await store.OutboxForJobAsync(jobId, cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(o => o.Kind == OutboxKind.SubmitJob && o.Status is OutboxStatus.Pending or OutboxStatus.Sent);

    /// <summary>The wait before attempt <paramref name="attempt"/> of a row (the shared backoff: doubling from the base, capped; attempt 1 waits the base).</summary>
    internal TimeSpan Backoff(int attempt) => Client.Http.RetryBackoff.Delay(attempt, options.OutboxBaseBackoff, options.OutboxMaxBackoff);

    private async Task FailJobAsync(string jobId, string error, long now, CancellationToken cancellationToken)
    {
        if (await store.FailJobAsync(jobId, error, now, cancellationToken).ConfigureAwait(false))
        {
            signals.Notify(jobId);
        }
    }

    public override void Dispose()
    {
        _turn.Dispose();
        base.Dispose();
    }

    private sealed class Releaser(SemaphoreSlim turn) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                turn.Release();
            }
        }
    }
}
