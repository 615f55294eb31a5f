using Aitbc.Coordinator.Storage;
using Aitbc.Core.Transactions;
using Microsoft.Extensions.Logging;

namespace Aitbc.Coordinator.Chain;

/// <summary>The chain writer's second duty: following sent rows to their block.</summary>
public sealed partial class ChainWriter
{
    /// <summary>Sent rows looked at per confirmation pass.</summary>
    private const int ConfirmBatch = 1000;

    /// <summary>Blocks read per pass at most; a longer gap (a restart, a long outage) falls back to asking per row.</summary>
    private const int MaxBlocksPerPass = 50;

    /// <summary>Committed transactions remembered from the blocks read, so rows sent late in a pass still find theirs.</summary>
    private const int RememberedTxs = 200_000;

    private readonly Dictionary<string, Delivery.Committed> _committed = new(StringComparer.Ordinal);
    private readonly Queue<string> _committedOrder = new();
    private long? _scannedHeight;

    /// <summary>When the oldest sent row left unconfirmed by the last pass turns overdue (<see cref="CoordinatorOptions.ResendAfter"/>).</summary>
    private long _overdueAt;

    /// <summary>Hashes of the rows this writer marked sent since the last pass read the sent rows.</summary>
    private readonly List<string> _sentSincePass = [];

    private void ForgetScannedBlocks()
    {
        _scannedHeight = null;
        _sentSincePass.Clear();
    }

    /// <summary>Whether sent rows wait for their block: the last pass left some, or some were sent since.</summary>
    private bool AwaitingBlocks => _leftUnconfirmed || _sentSincePass.Count > 0;

    private bool _leftUnconfirmed;

    /// <summary>Notes rows just marked sent, for the next pass (<see cref="ConfirmSentAsync"/>).</summary>
    private void NoteSent(IEnumerable<string> hashes) => _sentSincePass.AddRange(hashes);

    /// <summary>
    /// Follows sent rows to their block: reads each new block's transactions and results once (three calls a block,
    /// however many rows are waiting) and closes the rows found there with their height; a row not seen in a block
    /// read — and every row on the first pass after taking the role, or after a gap of more than
    /// <see cref="MaxBlocksPerPass"/> blocks — is asked about on its own once it is older than
    /// <see cref="CoordinatorOptions.ResendAfter"/>, and queued again when the chain does not have it.
    /// </summary>
    internal async Task ConfirmAsync(CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ConfirmSentAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _turn.Release();
        }
    }

    private async Task ConfirmSentAsync(CancellationToken cancellationToken)
    {
        long height;
        try
        {
            height = (await node.GetStatusAsync(cancellationToken).ConfigureAwait(false)).LatestBlockHeight;
        }
        catch (Client.Node.NodeClientException e)
        {
            // The node is down: the rows wait, and deliveries already log the outage.
            logger.LogDebug("cannot confirm outbox rows: {Error}", e.Message);
            return;
        }
        if (height == _scannedHeight && Now < _overdueAt && !_sentSincePass.Exists(_committed.ContainsKey))
        {
            // No block since the last pass, no row overdue, and none sent since then already seen in a block read: a pass
            // would read every sent row to close nothing.
            return;
        }
        var passAt = Now;
        _sentSincePass.Clear();
        var rows = await store.SentOutboxAsync(ConfirmBatch, cancellationToken).ConfigureAwait(false);
        var perRow = false;
        try
        {
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

        // The next pass may be skipped until the oldest row left here turns overdue (rows sent later turn overdue later);
        // a full batch may have left older rows unread, so then it may not.
        var resendAfter = (long)options.ResendAfter.TotalMilliseconds;
        _leftUnconfirmed = rows.Any(r => !_committed.ContainsKey(r.TxHash!));
        _overdueAt = rows.Count >= ConfirmBatch ? passAt
            : rows.Where(r => !_committed.ContainsKey(r.TxHash!)).Select(r => r.SentAt.GetValueOrDefault() + resendAfter + 1).DefaultIfEmpty(passAt + resendAfter).Min();
        // Asking per row stops at the first row not yet in a block: the later ones are younger, and land in blocks read later.
        var asking = perRow;
        var found = rows.Where(r => _committed.ContainsKey(r.TxHash!)).ToList();
        // The rows found in the blocks read are closed together: one transaction however many a block held.
        await CloseCommittedAsync(found, cancellationToken).ConfigureAwait(false);
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

    /// <summary>Closes rows found in the blocks read in one transaction; a submit_job that failed in its block fails its job.</summary>
    private async Task CloseCommittedAsync(List<OutboxRecord> rows, CancellationToken cancellationToken)
    {
        var now = Now;
        var closes = new List<OutboxClose>();
        var receipts = new List<OutboxRecord>();
        var failing = new List<OutboxRecord>();
        foreach (var row in rows)
        {
            var c = _committed[row.TxHash!];
            if (FailsJob(row, c))
            {
                failing.Add(row);
                continue;
            }
            metrics.OutboxDelivery(row.Kind, c);
            closes.Add(new OutboxClose(row.Id, OutboxStatus.Committed, c.Height, c.Code == TxCode.Ok ? null : $"{c.Code}: {c.Log}", EscrowOf(row, c.Code)));
            if (row.Kind == OutboxKind.RecordReceipt)
            {
                receipts.Add(row);
            }
        }
        if (closes.Count > 0)
        {
            await store.CloseOutboxAsync(closes, now, cancellationToken).ConfigureAwait(false);
            NotifyEscrows(closes);
        }
        foreach (var row in receipts)
        {
            await ObserveReceiptAsync(row, now, cancellationToken).ConfigureAwait(false);
        }
        foreach (var row in failing)
        {
            await ApplyAsync(row, _committed[row.TxHash!], cancellationToken).ConfigureAwait(false);
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
}
