using System.Threading.Channels;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Storage;
using Aitbc.Core.Transactions;
using Microsoft.Extensions.Logging;

namespace Aitbc.Coordinator.Chain;

/// <summary>Wakes the outbox worker when a row is queued, so a refund does not wait for the next poll.</summary>
public sealed class OutboxSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Kick() => _channel.Writer.TryWrite(true);

    internal ChannelReader<bool> Reader => _channel.Reader;
}

/// <summary>
/// Moves outbox rows toward the chain, oldest first: delivers due rows, records each outcome on the row (and on its job
/// when the chain refuses a job's escrow), and follows sent rows until their block.
/// </summary>
public sealed class OutboxProcessor(
    ChainSender sender,
    Client.Node.NodeClient node,
    ICoordinatorStore store,
    JobSignals signals,
    CoordinatorMetrics metrics,
    CoordinatorOptions options,
    ILogger<OutboxProcessor> logger)
{
    private TimeProvider Time => options.Time;

    private long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Delivers the oldest due row; false when none was due or its delivery must wait (then later rows wait too, to keep order).</summary>
    public async Task<bool> PumpOnceAsync(CancellationToken cancellationToken)
    {
        using var hold = await sender.LockAsync(cancellationToken).ConfigureAwait(false);
        // Read under the lock: the request path may have just sent (or deleted) this row while we waited.
        var row = await store.NextDueOutboxAsync(Now, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return false;
        }
        var delivery = await sender.DeliverAsync(row, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(row, delivery, cancellationToken).ConfigureAwait(false);
        return delivery is not Delivery.Transient;
    }

    /// <summary>Looks up sent rows on chain: committed ones are closed with their height; ones lost from the mempool are queued again.</summary>
    public async Task ConfirmAsync(CancellationToken cancellationToken)
    {
        foreach (var row in await store.SentOutboxAsync(100, cancellationToken).ConfigureAwait(false))
        {
            Client.Node.TxInfo? landed;
            try
            {
                landed = await node.GetTxAsync(row.TxHash!, cancellationToken).ConfigureAwait(false);
            }
            catch (Client.Node.NodeClientException e)
            {
                // The node is down: the rows wait, and deliveries already log the outage.
                logger.LogDebug("cannot confirm outbox rows: {Error}", e.Message);
                return;
            }
            if (landed is not null)
            {
                await ApplyAsync(row, new Delivery.Committed(landed.Height, landed.Result.Code, landed.Result.Log), cancellationToken).ConfigureAwait(false);
            }
            else if (row.SentAt is { } sentAt && Now - sentAt > (long)options.ResendAfter.TotalMilliseconds)
            {
                logger.LogWarning("outbox row {Row} ({Kind} for job {JobId}) sent {Seconds} s ago is not in a block; sending it again",
                    row.Id, row.Kind, row.JobId, (Now - sentAt) / 1000);
                await store.RequeueOutboxAsync(row.Id, Now, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Rows commit in order; the rest are younger still.
                break;
            }
        }
    }

    /// <summary>The earliest time a pending row is due, or null when none waits.</summary>
    public Task<long?> NextDueAsync(CancellationToken cancellationToken) => store.NextOutboxDueTimeAsync(cancellationToken);

    /// <summary>Records <paramref name="delivery"/> on its row, and fails the job when the chain refused its escrow.</summary>
    public async Task ApplyAsync(OutboxRecord row, Delivery delivery, CancellationToken cancellationToken)
    {
        var now = Now;
        metrics.OutboxDelivery(row.Kind, delivery);
        switch (delivery)
        {
            case Delivery.Sent:
                await store.MarkOutboxSentAsync(row.Id, now, cancellationToken).ConfigureAwait(false);
                break;
            case Delivery.Committed c:
                var note = c.Code == TxCode.Ok ? null : $"{c.Code}: {c.Log}";
                await store.CloseOutboxAsync(row.Id, OutboxStatus.Committed, c.Height, note, now, cancellationToken).ConfigureAwait(false);
                if (row.Kind == OutboxKind.RecordReceipt && await store.GetJobAsync(row.JobId, cancellationToken).ConfigureAwait(false) is { CompletedAt: { } completedAt })
                {
                    metrics.ReceiptCommitted(TimeSpan.FromMilliseconds(Math.Max(0, now - completedAt)));
                }
                // A submit_job admitted by CheckTx can still fail in its block (the client spent the funds meanwhile).
                if (row.Kind == OutboxKind.SubmitJob && c.Code is not (TxCode.Ok or TxCode.AlreadyExists))
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
