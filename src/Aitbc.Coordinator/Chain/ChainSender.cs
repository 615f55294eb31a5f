using System.Text.Json;
using Aitbc.Client.Node;
using Aitbc.Coordinator.Storage;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;
using Aitbc.Core.Transactions;
using Microsoft.Extensions.Logging;

namespace Aitbc.Coordinator.Chain;

/// <summary>
/// The one place that signs and broadcasts the coordinator's transactions. Everything runs under <see cref="LockAsync"/>,
/// so nonces are handed out in order and each signed transaction is recorded in its outbox row before it is broadcast:
/// after a crash its hash tells whether it landed.
/// </summary>
/// <remarks>
/// The nonce is counted locally and re-read from the chain whenever the count may be wrong (a failed call, a BadNonce).
/// The chain's committed nonce lags transactions still in the mempool, so a re-read can be stale for a block; the
/// resulting BadNonce is treated as transient and the row retried after a backoff. A transaction is never re-signed
/// before its old bytes are looked up on chain, and the chain refuses a second escrow, receipt or refund for a job, so a
/// re-sign can never pay twice.
/// </remarks>
public sealed class ChainSender(NodeClient node, Ed25519KeyPair key, ICoordinatorStore store, TimeProvider time, CoordinatorMetrics metrics, ILogger<ChainSender> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ulong? _nextNonce;
    private string? _chainId;

    public Core.Address Address => key.Address;

    /// <summary>Holds the sender exclusively: only the holder may sign or broadcast.</summary>
    public async Task<IDisposable> LockAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(_gate);
    }

    /// <summary>Signs <paramref name="body"/> with the next nonce (read from the chain when unknown). Caller holds the lock.</summary>
    public async Task<SignedTransaction> SignAsync(TxBody body, CancellationToken cancellationToken)
    {
        _chainId ??= (await node.GetStatusAsync(cancellationToken).ConfigureAwait(false)).ChainId;
        _nextNonce ??= (await node.GetAccountAsync(key.Address, cancellationToken).ConfigureAwait(false)).NextNonce;
        return new UnsignedTransaction(_chainId, key.PublicKey, _nextNonce.Value, body).Sign(key);
    }

    /// <summary>
    /// Signs <paramref name="bodies"/> with consecutive nonces from the next one (read from the chain when unknown), in
    /// order. Nothing is counted until <see cref="BroadcastManyAsync"/> learns which were admitted. Caller holds the lock.
    /// </summary>
    public async Task<IReadOnlyList<SignedTransaction>> SignManyAsync(IReadOnlyList<TxBody> bodies, CancellationToken cancellationToken)
    {
        _chainId ??= (await node.GetStatusAsync(cancellationToken).ConfigureAwait(false)).ChainId;
        _nextNonce ??= (await node.GetAccountAsync(key.Address, cancellationToken).ConfigureAwait(false)).NextNonce;
        return SignFrom(_chainId, _nextNonce.Value, bodies);
    }

    /// <summary>
    /// Signs <paramref name="bodies"/> with consecutive nonces from <paramref name="firstNonce"/> without the lock: the
    /// submission writer signs a group while the one before it is still being broadcast, guessing the nonce that one
    /// leaves next. <see cref="SendManyAsync"/> checks the guess under the lock and signs again when it was wrong. Only
    /// once a transaction was signed under the lock (the chain id is known).
    /// </summary>
    public IReadOnlyList<SignedTransaction> SignAhead(IReadOnlyList<TxBody> bodies, ulong firstNonce) =>
        SignFrom(Volatile.Read(ref _chainId) ?? throw new InvalidOperationException("nothing was signed under the lock yet: the chain id is unknown"), firstNonce, bodies);

    private SignedTransaction[] SignFrom(string chainId, ulong firstNonce, IReadOnlyList<TxBody> bodies)
    {
        var txs = new SignedTransaction[bodies.Count];
        for (var i = 0; i < bodies.Count; i++)
        {
            txs[i] = new UnsignedTransaction(chainId, key.PublicKey, firstNonce + (ulong)i, bodies[i]).Sign(key);
        }
        return txs;
    }

    /// <summary>Whether the next nonce is known (false after an undecided broadcast or a BadNonce at the expected nonce: then it is re-read from the chain).</summary>
    public bool NonceKnown => _nextNonce is not null;

    /// <summary>
    /// Broadcasts transactions just signed by <see cref="SignManyAsync"/> (consecutive nonces) as one JSON-RPC batch and
    /// reads each verdict, in order. The node admits only the next nonce, so after a refusal every later transaction
    /// comes back BadNonce (<see cref="Delivery.Transient"/> with StaleNonce): those must be signed again from the
    /// refused one's nonce, which <see cref="SignManyAsync"/> then hands out. Caller holds the lock.
    /// </summary>
    public async Task<IReadOnlyList<Delivery>> BroadcastManyAsync(IReadOnlyList<SignedTransaction> txs, CancellationToken cancellationToken)
    {
        if (txs.Count <= 1)
        {
            return txs.Count == 0 ? [] : [await BroadcastAsync(txs[0], cancellationToken).ConfigureAwait(false)];
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

    /// <summary>
    /// Puts freshly signed transactions of outbox rows on the mempool as one batch (<paramref name="txs"/>[i] signed by
    /// <see cref="SignManyAsync"/> or <see cref="SignAhead"/> over <paramref name="bodies"/>[i] and already recorded on
    /// row <paramref name="rowIds"/>[i]). When they were signed ahead from a nonce that is no longer the next one (the
    /// outbox worker sent meanwhile, or part of the group before was refused), they are first signed again. Those the
    /// node saw as a nonce gap (after a refused one) or with a stale nonce are signed again from the nonce the chain
    /// wants, recorded on their rows before the next broadcast, and sent again: at once after a gap (each round settles
    /// at least the refused one), after <paramref name="backoff"/> when the count itself was wrong (at most
    /// <paramref name="maxStaleRetries"/> times; then they stay undecided for the outbox worker). Caller holds the lock.
    /// </summary>
    public async Task<IReadOnlyList<Delivery>> SendManyAsync(IReadOnlyList<long> rowIds, IReadOnlyList<TxBody> bodies, IReadOnlyList<SignedTransaction> txs,
        Func<int, TimeSpan> backoff, int maxStaleRetries, CancellationToken cancellationToken)
    {
        var deliveries = new Delivery[txs.Count];
        var current = txs.ToArray();
        var sending = Enumerable.Range(0, txs.Count).ToList();
        var staleRetries = 0;
        if (txs.Count > 0 && _nextNonce != txs[0].Tx.Nonce)
        {
            metrics.SubmissionGroupSignedAgain();
            if (!await SignAgainAsync(sending, rowIds, bodies, current, deliveries, cancellationToken).ConfigureAwait(false))
            {
                return deliveries;
            }
        }
        while (true)
        {
            var results = await BroadcastManyAsync([.. sending.Select(i => current[i])], cancellationToken).ConfigureAwait(false);
            for (var k = 0; k < sending.Count; k++)
            {
                deliveries[sending[k]] = results[k];
            }
            var again = sending.Where(i => deliveries[i] is Delivery.Transient { StaleNonce: true }).ToList();
            if (again.Count == 0)
            {
                return deliveries;
            }
            if (!NonceKnown)
            {
                if (++staleRetries > maxStaleRetries)
                {
                    return deliveries;
                }
                // A stale nonce (the chain's count lags our transactions in its mempool): wait, then sign again.
                await Task.Delay(backoff(staleRetries), time, cancellationToken).ConfigureAwait(false);
            }
            if (!await SignAgainAsync(again, rowIds, bodies, current, deliveries, cancellationToken).ConfigureAwait(false))
            {
                return deliveries;
            }
            sending = again;
        }
    }

    /// <summary>
    /// Signs the transactions at <paramref name="indexes"/> again from the next nonce and records them on their rows;
    /// false (each of them then undecided, keeping its last signed bytes for the outbox worker) when the node cannot be asked.
    /// </summary>
    private async Task<bool> SignAgainAsync(List<int> indexes, IReadOnlyList<long> rowIds, IReadOnlyList<TxBody> bodies, SignedTransaction[] current,
        Delivery[] deliveries, CancellationToken cancellationToken)
    {
        IReadOnlyList<SignedTransaction> resigned;
        try
        {
            resigned = await SignManyAsync([.. indexes.Select(i => bodies[i])], cancellationToken).ConfigureAwait(false);
        }
        catch (NodeClientException e)
        {
            foreach (var i in indexes)
            {
                deliveries[i] = new Delivery.Transient(e.Message);
            }
            return false;
        }
        var signatures = new List<OutboxSignature>(indexes.Count);
        for (var k = 0; k < indexes.Count; k++)
        {
            current[indexes[k]] = resigned[k];
            signatures.Add(new OutboxSignature(rowIds[indexes[k]], resigned[k].Tx.Nonce, Convert.ToBase64String(resigned[k].WireBytes), resigned[k].Hash));
        }
        // Recorded before the broadcast, as always: after a crash the row's hash says whether these bytes landed.
        await store.MarkOutboxSignedAsync(signatures, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Broadcasts a transaction just signed by <see cref="SignAsync"/> and reads the node's verdict. Caller holds the lock.</summary>
    public async Task<Delivery> BroadcastAsync(SignedTransaction tx, CancellationToken cancellationToken)
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
    /// Delivers one outbox row: when an earlier attempt signed it, first asks the chain whether those bytes landed and
    /// rebroadcasts them; only when their nonce went to something else is the body signed afresh. Caller holds the lock.
    /// </summary>
    public async Task<Delivery> DeliverAsync(OutboxRecord row, CancellationToken cancellationToken)
    {
        try
        {
            if (row.TxHash is { } hash && row.TxBytes is { } bytesText)
            {
                if (await node.GetTxAsync(hash, cancellationToken).ConfigureAwait(false) is { } landed)
                {
                    return new Delivery.Committed(landed.Height, landed.Result.Code, landed.Result.Log);
                }
                var old = await node.BroadcastTxSyncAsync(Convert.FromBase64String(bytesText), cancellationToken).ConfigureAwait(false);
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
            var body = (TxBody)(JsonSerializer.Deserialize(row.BodyJson, TxType.BodyType(row.Kind), WireJson.Options)
                ?? throw new InvalidDataException($"outbox row {row.Id} has an empty body"));
            var tx = await SignAsync(body, cancellationToken).ConfigureAwait(false);
            await store.MarkOutboxSignedAsync(row.Id, tx.Tx.Nonce, Convert.ToBase64String(tx.WireBytes), tx.Hash, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);
            return await BroadcastAsync(tx, cancellationToken).ConfigureAwait(false);
        }
        catch (NodeClientException e)
        {
            _nextNonce = null;
            logger.LogWarning("outbox row {Row} ({Kind} for job {JobId}): node unavailable: {Error}", row.Id, row.Kind, row.JobId, e.Message);
            return new Delivery.Transient(e.Message);
        }
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

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
