using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Chain;
using Aitbc.Coordinator.Http;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Scheduling;
using Aitbc.Coordinator.Storage;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;
using Aitbc.Core.Proofs;
using Aitbc.Core.Transactions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Aitbc.Coordinator.Miners;

/// <summary>
/// The assigned miner's side of a job: <c>/status</c> (assigned → running), <c>/complete</c> (from assigned or running:
/// proof checked, receipt signed, record_receipt queued, stored in a group by <see cref="CompletionWriter"/>) and
/// <c>/fail</c> (refund queued). A job assigned to another miner reads as missing (404): which jobs exist is not another
/// miner's business. A state the transition cannot start from is 409.
/// </summary>
public static class MinerJobEndpoints
{
    public const int MaxErrorLength = 2000;

    private static readonly string[] Held = [JobStatus.Assigned, JobStatus.Running];

    public static void MapMinerJobEndpoints(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/v1/jobs").WithTags("miner jobs");
        jobs.MapPost("/{id}/status", StatusAsync).RequireApiKey(Roles.Miner).Routine();
        jobs.MapPost("/{id}/complete", CompleteAsync).RequireApiKey(Roles.Miner).Routine();
        jobs.MapPost("/{id}/fail", FailAsync).RequireApiKey(Roles.Miner);
    }

    private static async Task<Results<Ok<JobView>, ValidationProblem, ProblemHttpResult>> StatusAsync(
        HttpContext context, string id, JobStatusUpdate? body, ICoordinatorStore store, JobSignals signals, CoordinatorOptions options, CancellationToken cancellationToken)
    {
        var (job, miner, problem) = await HeldJobAsync(context, id, store, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }
        if (body is null || body.Status != JobStatus.Running)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["status"] = ["status must be \"running\""] });
        }
        if (body.StartedAt is null || !DateTimeOffset.TryParse(body.StartedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["started_at"] = ["started_at must be an RFC 3339 time"] });
        }
        // A retried /status for a job already running is answered as done (the miner's outbox may resend after a lost answer).
        if (job!.Status == JobStatus.Running)
        {
            return TypedResults.Ok(JobView.From(job));
        }
        // started_at is the coordinator's clock: billing compares it with the miner's compute_time, so it must not be the miner's word.
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        if (!await store.StartJobAsync(id, miner!, now, cancellationToken).ConfigureAwait(false))
        {
            var current = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? job;
            return Problems.Conflict($"job {id} is {current.Status}; only an assigned job can start running");
        }
        signals.Notify(id);
        // The conditional UPDATE changed exactly these two columns of the row read above: no need to read it again.
        return TypedResults.Ok(JobView.From(job with { Status = JobStatus.Running, StartedAt = now }));
    }

    private static async Task<Results<Ok<JobView>, ValidationProblem, ProblemHttpResult>> CompleteAsync(
        HttpContext context, string id, JobCompletion? body, ICoordinatorStore store, CompletionWriter completions, Ed25519KeyPair coordinatorKey, JobSignals signals,
        OutboxSignal outboxSignal, SchedulerSignal scheduler, CoordinatorMetrics metrics, CoordinatorOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (job, miner, problem) = await HeldJobAsync(context, id, store, cancellationToken, allowCompleted: true).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }
        if (body is null || body.Result is null || body.Metrics is null || body.Proof is null)
        {
            return Problems.BadRequest("send {job_id, result, metrics{compute_time, tokens_generated}, proof{hash, signature}}");
        }
        if (!double.IsFinite(body.Metrics.ComputeTime) || body.Metrics.GpuUtilization is { } utilization && !double.IsFinite(utilization))
        {
            // Checked before hashing: canonical JSON has no form for 1e400 (read as infinity), so it cannot be hashed.
            return Problems.Validation(new Dictionary<string, string[]> { ["metrics"] = ["compute_time and gpu_utilization must be finite numbers"] });
        }
        var completionHash = Convert.ToHexStringLower(SHA256.HashData(CanonicalJson.Serialize(body, RestJson.Options)));
        if (job!.Status == JobStatus.Completed)
        {
            var earlier = await store.GetReceiptByJobAsync(id, cancellationToken).ConfigureAwait(false);
            return earlier?.CompletionHash == completionHash
                ? TypedResults.Ok(JobView.From(job))
                : Problems.Conflict($"job {id} is already completed with another result");
        }
        var errors = new Dictionary<string, string[]>();
        if (body.JobId != id)
        {
            errors["job_id"] = ["job_id must be the job in the path"];
        }
        if (body.Result.Length == 0 || Encoding.UTF8.GetByteCount(body.Result) > options.MaxResultBytes)
        {
            errors["result"] = [$"result must be 1 to {options.MaxResultBytes} bytes of UTF-8"];
        }
        if (!double.IsFinite(body.Metrics.ComputeTime) || body.Metrics.ComputeTime < 0)
        {
            errors["metrics.compute_time"] = ["compute_time must be a non-negative number of seconds"];
        }
        if (body.Metrics.TokensGenerated < 0)
        {
            errors["metrics.tokens_generated"] = ["tokens_generated must be non-negative"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var resultHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body.Result)));
        if (!string.Equals(body.Proof.Hash, resultHash, StringComparison.Ordinal))
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["proof.hash"] = ["proof.hash must be the lower-hex SHA-256 of result (UTF-8)"] });
        }
        var promptHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(job.Prompt)));
        var proof = new MinerProof(id, job.Model, promptHash, resultHash, body.Metrics.ComputeTime, body.Metrics.TokensGenerated);
        var caller = Caller.Of(context);
        if (!proof.Verify(Ed25519PublicKey.Parse(caller.MinerPubKey!), body.Proof.Signature))
        {
            // The job stays as it was: the miner may send a correct proof; the deadline ends it otherwise.
            return Problems.Validation(new Dictionary<string, string[]>
            {
                ["proof.signature"] = ["proof.signature is not the miner's Ed25519 signature over {job_id, model, prompt_hash, result_hash, compute_time, tokens_generated}"],
            });
        }

        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var price = job.PricePerSecondMicro ?? 0;
        var observedSeconds = Math.Max(0, now - (job.AssignedAt ?? now)) / 1000.0;
        var billable = Math.Min(body.Metrics.ComputeTime, observedSeconds);
        var amount = Math.Min(job.MaxPriceMicro, (ulong)Math.Floor((decimal)billable * price));
        var receiptId = "rcpt_" + id["job_".Length..];
        var receipt = new Receipt(receiptId, id, Address.Parse(job.ClientAddress), Address.Parse(miner!), job.Model, promptHash, resultHash, body.Metrics.ComputeTime,
            body.Metrics.TokensGenerated, new Amount(price).ToAitbcString(), new Amount(amount).ToAitbcString(), body.Proof.Signature, Timestamps.Format(now),
            coordinatorKey.PublicKey.Base64).SignWith(coordinatorKey);
        var record = new RecordReceiptBody(receiptId, id, Address.Parse(miner!), new Amount(amount), resultHash, body.Proof.Signature, job.Model, promptHash,
            body.Metrics.ComputeTime, body.Metrics.TokensGenerated);
        // The row as CompleteJobAsync's conditional UPDATE leaves it (the answer is built from it, not read again).
        var completed = job with { Status = JobStatus.Completed, Result = body.Result, CostMicro = amount, ReceiptId = receiptId, StartedAt = job.StartedAt ?? now, CompletedAt = now };
        var stored = new ReceiptRecord(receiptId, id, miner!, job.ClientAddress, JsonSerializer.Serialize(receipt, RestJson.Options), completionHash, now);
        if (!await completions.CompleteAsync(new CompletedJob(completed, stored, OutboxRows.RecordReceipt(record, now)), cancellationToken).ConfigureAwait(false))
        {
            var current = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? job;
            // A retry of this very completion that was stored first (it may have shared the group) is answered as done.
            if (current.Status == JobStatus.Completed && (await store.GetReceiptByJobAsync(id, cancellationToken).ConfigureAwait(false))?.CompletionHash == completionHash)
            {
                return TypedResults.Ok(JobView.From(current));
            }
            return Problems.Conflict($"job {id} is {current.Status}; only an assigned or running job can complete");
        }
        metrics.Completed();
        loggers.CreateLogger(typeof(MinerJobEndpoints)).LogInformation("job {JobId} completed by miner {Miner}: {Amount} AITBC for {Seconds} s", id, miner, receipt.AmountPaid, billable);
        signals.Notify(id);
        outboxSignal.Kick();
        scheduler.Kick();
        return TypedResults.Ok(JobView.From(completed));
    }

    private static async Task<Results<Ok<JobView>, ValidationProblem, ProblemHttpResult>> FailAsync(
        HttpContext context, string id, JobFailure? body, ICoordinatorStore store, JobSignals signals, OutboxSignal outboxSignal, SchedulerSignal scheduler,
        CoordinatorMetrics metrics, CoordinatorOptions options, CancellationToken cancellationToken)
    {
        var (job, miner, problem) = await HeldJobAsync(context, id, store, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }
        if (body?.Error is not { Length: > 0 and <= MaxErrorLength } error)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["error"] = [$"error must be 1 to {MaxErrorLength} characters"] });
        }
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var message = $"miner failed: {error}";
        if (!await store.FailJobWithRefundAsync(id, message, Held, miner, MinerOutcome.Failed, OutboxRows.Refund(id, "miner failed", now), now, cancellationToken).ConfigureAwait(false))
        {
            var current = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? job!;
            return Problems.Conflict($"job {id} is {current.Status}; only an assigned or running job can fail");
        }
        metrics.JobFailed("miner");
        signals.Notify(id);
        outboxSignal.Kick();
        scheduler.Kick();
        return TypedResults.Ok(JobView.From((await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false))!));
    }

    /// <summary>The job, if this miner holds (or held) it; 404 when missing or another miner's, 409 when not in a state a miner can act on.</summary>
    private static async Task<(JobRecord? Job, string? Miner, ProblemHttpResult? Problem)> HeldJobAsync(
        HttpContext context, string id, ICoordinatorStore store, CancellationToken cancellationToken, bool allowCompleted = false)
    {
        var caller = Caller.Of(context);
        if (MinerEndpoints.AddressOf(caller) is not { } miner)
        {
            return (null, null, Problems.Forbidden("this miner key is bound to no miner public key"));
        }
        var job = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false);
        if (job is null || job.Miner != miner)
        {
            return (null, null, Problems.NotFound($"no job {id} assigned to this miner"));
        }
        if (!Held.Contains(job.Status) && !(allowCompleted && job.Status == JobStatus.Completed))
        {
            return (null, null, Problems.Conflict($"job {id} is {job.Status}"));
        }
        return (job, miner, null);
    }
}
