using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Http;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Chain;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Scheduling;
using Aitbc.Coordinator.Storage;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;
using Aitbc.Core.Proofs;
using Aitbc.Core.Transactions;
using Microsoft.Extensions.Logging;

namespace Aitbc.Coordinator.Miners;

/// <summary>
/// The assigned miner's reports on its job: start (assigned → running), complete (from assigned or running: proof
/// checked, billed, receipt signed, record_receipt queued, stored in a group by <see cref="CompletionWriter"/>) and fail
/// (refund queued). Each takes the reporting miner's public key, which its API key is bound to. A job assigned to
/// another miner reads as missing; a state the transition cannot start from is a conflict.
/// </summary>
public sealed class MinerJobService(
    ICoordinatorStore store,
    CompletionWriter completions,
    Ed25519KeyPair coordinatorKey,
    JobSignals signals,
    OutboxSignal outboxSignal,
    SchedulerSignal scheduler,
    CoordinatorMetrics metrics,
    CoordinatorOptions options,
    ILogger<MinerJobService> logger)
{
    public const int MaxErrorLength = 2000;

    private static readonly string[] Held = [JobStatus.Assigned, JobStatus.Running];

    /// <summary>The miner started the job: assigned → running, started at the coordinator's clock.</summary>
    public async Task<MinerJobOutcome> StartAsync(Ed25519PublicKey minerKey, string id, JobStatusUpdate? update, CancellationToken cancellationToken)
    {
        var (job, refusal) = await HeldJobAsync(minerKey, id, allowCompleted: false, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return refusal;
        }
        if (update is null || update.Status != JobStatus.Running)
        {
            return new MinerJobOutcome.Invalid("status", "status must be \"running\"");
        }
        if (update.StartedAt is null || !DateTimeOffset.TryParse(update.StartedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
        {
            return new MinerJobOutcome.Invalid("started_at", "started_at must be an RFC 3339 time");
        }
        // A retried /status for a job already running is answered as done (the miner's outbox may resend after a lost answer).
        if (job!.Status == JobStatus.Running)
        {
            return new MinerJobOutcome.Done(job);
        }
        // started_at is the coordinator's clock: billing compares it with the miner's compute_time, so it must not be the miner's word.
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        if (!await store.StartJobAsync(id, minerKey.Address.Value, now, cancellationToken).ConfigureAwait(false))
        {
            var current = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? job;
            return new MinerJobOutcome.Conflict($"job {id} is {current.Status}; only an assigned job can start running");
        }
        signals.Notify(id);
        // The conditional UPDATE changed exactly these two columns of the row read above: no need to read it again.
        return new MinerJobOutcome.Done(job with { Status = JobStatus.Running, StartedAt = now });
    }

    /// <summary>
    /// The miner finished the job: its proof is checked, the lesser of its reported compute time and the time the
    /// coordinator saw the job assigned is billed at the miner's price (at most the job's budget), and the receipt is
    /// signed and stored with its record_receipt row. The same completion sent again is answered as done.
    /// </summary>
    public async Task<MinerJobOutcome> CompleteAsync(Ed25519PublicKey minerKey, string id, JobCompletion? completion, CancellationToken cancellationToken)
    {
        var (job, refusal) = await HeldJobAsync(minerKey, id, allowCompleted: true, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return refusal;
        }
        if (completion is null || completion.Result is null || completion.Metrics is null || completion.Proof is null)
        {
            return new MinerJobOutcome.Malformed("send {job_id, result, metrics{compute_time, tokens_generated}, proof{hash, signature}}");
        }
        if (!double.IsFinite(completion.Metrics.ComputeTime) || completion.Metrics.GpuUtilization is { } utilization && !double.IsFinite(utilization))
        {
            // Checked before hashing: canonical JSON has no form for 1e400 (read as infinity), so it cannot be hashed.
            return new MinerJobOutcome.Invalid("metrics", "compute_time and gpu_utilization must be finite numbers");
        }
        var completionHash = Convert.ToHexStringLower(SHA256.HashData(CanonicalJson.Serialize(completion, RestJson.Options)));
        if (job!.Status == JobStatus.Completed)
        {
            var stored = await store.GetReceiptByJobAsync(id, cancellationToken).ConfigureAwait(false);
            return stored?.CompletionHash == completionHash
                ? new MinerJobOutcome.Done(job)
                : new MinerJobOutcome.Conflict($"job {id} is already completed with another result");
        }
        if (Validate(id, completion) is { Count: > 0 } errors)
        {
            return new MinerJobOutcome.Invalid(errors);
        }
        var resultHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(completion.Result)));
        if (!string.Equals(completion.Proof.Hash, resultHash, StringComparison.Ordinal))
        {
            return new MinerJobOutcome.Invalid("proof.hash", "proof.hash must be the lower-hex SHA-256 of result (UTF-8)");
        }
        var promptHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(job.Prompt)));
        var proof = new MinerProof(id, job.Model, promptHash, resultHash, completion.Metrics.ComputeTime, completion.Metrics.TokensGenerated);
        if (!proof.Verify(minerKey, completion.Proof.Signature))
        {
            // The job stays as it was: the miner may send a correct proof; the deadline ends it otherwise.
            return new MinerJobOutcome.Invalid("proof.signature",
                "proof.signature is not the miner's Ed25519 signature over {job_id, model, prompt_hash, result_hash, compute_time, tokens_generated}");
        }

        var miner = minerKey.Address;
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var price = job.PricePerSecondMicro ?? 0;
        var observedSeconds = Math.Max(0, now - (job.AssignedAt ?? now)) / 1000.0;
        var billable = Math.Min(completion.Metrics.ComputeTime, observedSeconds);
        var amount = Math.Min(job.MaxPriceMicro, (ulong)Math.Floor((decimal)billable * price));
        var receiptId = "rcpt_" + id["job_".Length..];
        var receipt = new Receipt(receiptId, id, Address.Parse(job.ClientAddress), miner, job.Model, promptHash, resultHash, completion.Metrics.ComputeTime,
            completion.Metrics.TokensGenerated, new Amount(price).ToAitbcString(), new Amount(amount).ToAitbcString(), completion.Proof.Signature, Timestamps.Format(now),
            coordinatorKey.PublicKey.Base64).SignWith(coordinatorKey);
        var record = new RecordReceiptBody(receiptId, id, miner, new Amount(amount), resultHash, completion.Proof.Signature, job.Model, promptHash,
            completion.Metrics.ComputeTime, completion.Metrics.TokensGenerated);
        // The row as CompleteJobAsync's conditional UPDATE leaves it (the answer is built from it, not read again).
        var completed = job with { Status = JobStatus.Completed, Result = completion.Result, CostMicro = amount, ReceiptId = receiptId, StartedAt = job.StartedAt ?? now, CompletedAt = now };
        var receiptRow = new ReceiptRecord(receiptId, id, miner.Value, job.ClientAddress, JsonSerializer.Serialize(receipt, RestJson.Options), completionHash, now);
        if (!await completions.CompleteAsync(new CompletedJob(completed, receiptRow, OutboxRows.RecordReceipt(record, now)), cancellationToken).ConfigureAwait(false))
        {
            var current = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? job;
            // A retry of this very completion that was stored first (it may have shared the group) is answered as done.
            if (current.Status == JobStatus.Completed && (await store.GetReceiptByJobAsync(id, cancellationToken).ConfigureAwait(false))?.CompletionHash == completionHash)
            {
                return new MinerJobOutcome.Done(current);
            }
            return new MinerJobOutcome.Conflict($"job {id} is {current.Status}; only an assigned or running job can complete");
        }
        metrics.Completed();
        logger.LogInformation("job {JobId} completed by miner {Miner}: {Amount} AITBC for {Seconds} s", id, miner.Value, receipt.AmountPaid, billable);
        signals.Notify(id);
        outboxSignal.Kick();
        scheduler.Kick();
        return new MinerJobOutcome.Done(completed);
    }

    /// <summary>The miner gave up on the job: failed, and its escrow refunded to the client in full.</summary>
    public async Task<MinerJobOutcome> FailAsync(Ed25519PublicKey minerKey, string id, JobFailure? failure, CancellationToken cancellationToken)
    {
        var (job, refusal) = await HeldJobAsync(minerKey, id, allowCompleted: false, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            return refusal;
        }
        if (failure?.Error is not { Length: > 0 and <= MaxErrorLength } error)
        {
            return new MinerJobOutcome.Invalid("error", $"error must be 1 to {MaxErrorLength} characters");
        }
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var message = $"miner failed: {error}";
        if (!await store.FailJobWithRefundAsync(id, message, Held, minerKey.Address.Value, MinerOutcome.Failed, OutboxRows.Refund(id, "miner failed", now), now, cancellationToken)
            .ConfigureAwait(false))
        {
            var current = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? job!;
            return new MinerJobOutcome.Conflict($"job {id} is {current.Status}; only an assigned or running job can fail");
        }
        metrics.JobFailed("miner");
        signals.Notify(id);
        outboxSignal.Kick();
        scheduler.Kick();
        return new MinerJobOutcome.Done((await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false))!);
    }

    /// <summary>The job, if this miner holds (or, with <paramref name="allowCompleted"/>, completed) it; else why not.</summary>
    private async Task<(JobRecord? Job, MinerJobOutcome? Refusal)> HeldJobAsync(Ed25519PublicKey minerKey, string id, bool allowCompleted, CancellationToken cancellationToken)
    {
        var job = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false);
        if (job is null || job.Miner != minerKey.Address.Value)
        {
            return (null, new MinerJobOutcome.Missing($"no job {id} assigned to this miner"));
        }
        if (!Held.Contains(job.Status) && !(allowCompleted && job.Status == JobStatus.Completed))
        {
            return (null, new MinerJobOutcome.Conflict($"job {id} is {job.Status}"));
        }
        return (job, null);
    }

    private Dictionary<string, string[]> Validate(string id, JobCompletion completion)
    {
        var errors = new Dictionary<string, string[]>();
        if (completion.JobId != id)
        {
            errors["job_id"] = ["job_id must be the job in the path"];
        }
        if (completion.Result.Length == 0 || Encoding.UTF8.GetByteCount(completion.Result) > options.MaxResultBytes)
        {
            errors["result"] = [$"result must be 1 to {options.MaxResultBytes} bytes of UTF-8"];
        }
        if (!double.IsFinite(completion.Metrics.ComputeTime) || completion.Metrics.ComputeTime < 0)
        {
            errors["metrics.compute_time"] = ["compute_time must be a non-negative number of seconds"];
        }
        if (completion.Metrics.TokensGenerated < 0)
        {
            errors["metrics.tokens_generated"] = ["tokens_generated must be non-negative"];
        }
        return errors;
    }
}
