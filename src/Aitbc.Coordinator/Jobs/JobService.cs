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

    private long Now => options.Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Creates a pending job and its escrow. Under the sender's lock: sign submit_job, store the job and its signed outbox
    /// row in one transaction, broadcast. A refusal deletes the job (the client sees 402, no job exists); an undecided
    /// broadcast leaves the row to the outbox worker and the job stands. Idempotency is checked under the same lock, so
    /// two concurrent retries cannot both create a job.
    /// </summary>
    public async Task<SubmitOutcome> SubmitAsync(Caller caller, JobSubmission submission, string? idempotencyKey, string requestHash, CancellationToken cancellationToken)
    {
        var client = Address.Parse(caller.Address!);
        using var hold = await sender.LockAsync(cancellationToken).ConfigureAwait(false);
        if (idempotencyKey is not null
            && await store.FindJobByIdempotencyKeyAsync(caller.KeyId, idempotencyKey, cancellationToken).ConfigureAwait(false) is { } earlier)
        {
            return earlier.RequestHash == requestHash ? new SubmitOutcome.Accepted(earlier, Replayed: true) : new SubmitOutcome.KeyReused(earlier.Id);
        }

        var now = Now;
        var jobId = NewJobId();
        var body = new SubmitJobBody(jobId, client, submission.PayloadHash(), submission.MaxPrice);
        SignedTransaction tx;
        try
        {
            tx = await sender.SignAsync(body, cancellationToken).ConfigureAwait(false);
        }
        catch (Client.Node.NodeClientException e)
        {
            metrics.Submission("unavailable");
            logger.LogWarning("cannot sign submit_job: {Error}", e.Message);
            return new SubmitOutcome.ChainUnavailable(e.Message);
        }
        var job = new JobRecord(jobId, client.Value, caller.KeyId, JobStatus.Pending, submission.Model, submission.Prompt,
            System.Text.Encoding.UTF8.GetString(CanonicalJson.Serialize(submission.Options)), submission.MaxPrice.Micro, body.PayloadHash,
            idempotencyKey, requestHash, now, null, null, now + (submission.TtlSeconds * 1000L), null, null, null, null);
        var row = new OutboxRecord(0, jobId, OutboxKind.SubmitJob, JsonSerializer.Serialize(body, WireJson.Options), OutboxStatus.Pending, 0, null,
            tx.Tx.Nonce, Convert.ToBase64String(tx.WireBytes), tx.Hash, null, now, now, null);
        long rowId;
        try
        {
            rowId = await store.InsertJobAsync(job, row, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException) when (idempotencyKey is not null)
        {
            // Another coordinator process sharing the database stored a job with this key between our check and our
            // insert, and the unique index refused ours. Nothing was broadcast (the nonce is not spent): answer as a retry.
            if (await store.FindJobByIdempotencyKeyAsync(caller.KeyId, idempotencyKey, CancellationToken.None).ConfigureAwait(false) is not { } raced)
            {
                throw;
            }
            return raced.RequestHash == requestHash ? new SubmitOutcome.Accepted(raced, Replayed: true) : new SubmitOutcome.KeyReused(raced.Id);
        }
        row = row with { Id = rowId };

        // From here the job exists: finish recording the broadcast's outcome even if the client hangs up.
        var delivery = await sender.BroadcastAsync(tx, CancellationToken.None).ConfigureAwait(false);
        for (var retry = 0; retry < MaxNonceRetries && delivery is Delivery.Transient { StaleNonce: true }; retry++)
        {
            // A stale nonce (the chain's count lags our transactions in its mempool): sign again and retry now.
            await Task.Delay(outbox.Backoff(retry + 1), options.Time, CancellationToken.None).ConfigureAwait(false);
            try
            {
                tx = await sender.SignAsync(body, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Client.Node.NodeClientException e)
            {
                // The row keeps its last signed bytes; the outbox worker takes it from here.
                delivery = new Delivery.Transient(e.Message);
                break;
            }
            await store.MarkOutboxSignedAsync(rowId, tx.Tx.Nonce, Convert.ToBase64String(tx.WireBytes), tx.Hash, Now, CancellationToken.None).ConfigureAwait(false);
            row = row with { Nonce = tx.Tx.Nonce, TxBytes = Convert.ToBase64String(tx.WireBytes), TxHash = tx.Hash };
            delivery = await sender.BroadcastAsync(tx, CancellationToken.None).ConfigureAwait(false);
        }

        if (delivery is Delivery.Refused refused)
        {
            await store.DeleteJobAsync(jobId, CancellationToken.None).ConfigureAwait(false);
            metrics.OutboxDelivery(OutboxKind.SubmitJob, delivery);
            metrics.Submission("refused");
            logger.LogInformation("job escrow refused for client {Client}: {Code} {Log}", client, refused.Code, refused.Log);
            return new SubmitOutcome.Refused(refused.Code, refused.Log);
        }
        await outbox.ApplyAsync(row, delivery, CancellationToken.None).ConfigureAwait(false);
        if (delivery is Delivery.Transient)
        {
            outboxSignal.Kick();
        }
        metrics.Submission("accepted");
        scheduler.Kick();
        logger.LogInformation("job {JobId} accepted for client {Client} (model {Model}, max price {MaxPrice})", jobId, client, submission.Model, submission.MaxPrice);
        return new SubmitOutcome.Accepted(job, Replayed: false);
    }

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
