using System.Security.Cryptography;
using System.Text.Json;
using Aitbc.Client.Coordinator;
using Aitbc.Contracts.Coordinator;
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

    /// <summary>The node could not be asked for the coordinator's nonce, so nothing was signed and the job was withdrawn.</summary>
    public sealed record ChainUnavailable(string Error) : SubmitOutcome;

    /// <summary>The chain writer did not decide the escrow in time (no writer, or it is being taken over): the job may yet go ahead or be withdrawn.</summary>
    public sealed record Undecided(string JobId) : SubmitOutcome;
}

/// <summary>Job commands: submit (a job and its escrow row, for the chain writer) and cancel (a refund row, for the chain writer).</summary>
public sealed class JobService(
    ICoordinatorStore store,
    ChainWriter writer,
    OutboxSignal outboxSignal,
    SubmitDecisions decisions,
    JobSignals signals,
    CoordinatorMetrics metrics,
    CoordinatorOptions options,
    ILogger<JobService> logger)
{
    /// <summary>Times a submission looks again after its Idempotency-Key's job was stored or withdrawn under it.</summary>
    private const int MaxKeyRaces = 3;

    /// <summary>Concurrent submissions' jobs and rows share one transaction (SQLite's single writer commits once for them all).</summary>
    private readonly GroupCommit<(JobRecord Job, OutboxRecord Submit), long> _inserts = new(store.InsertJobsAsync);

    private int _awaiting;

    private long Now => options.Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Submissions handed to the chain writer or stored (or retries of one) waiting for its decision on their escrow.</summary>
    internal int AwaitingDecision => Volatile.Read(ref _awaiting);

    /// <summary>
    /// Creates a pending job and its escrow: hands the job and its unsigned submit_job row to the chain writer (or stores them
    /// in one transaction for it, when another process writes), which signs and broadcasts whatever is queued in one flight,
    /// and waits for its decision: admitted
    /// (the job stands), refused by the chain (the writer deleted the job: 402) or not signed for want of the node (deleted:
    /// 503). A submission whose Idempotency-Key already has a job replays it, after waiting for that job's own decision
    /// when it is still out, so two concurrent retries cannot both create a job, nor one replay a job that is then refused.
    /// </summary>
    public async Task<SubmitOutcome> SubmitAsync(Caller caller, JobSubmission submission, string? idempotencyKey, string requestHash, CancellationToken cancellationToken)
    {
        var client = Address.Parse(caller.Address!);
        for (var race = 0; ; race++)
        {
            if (idempotencyKey is not null
                && await store.FindJobByIdempotencyKeyAsync(caller.KeyId, idempotencyKey, cancellationToken).ConfigureAwait(false) is { } earlier)
            {
                if (await ReplayAsync(earlier, requestHash, cancellationToken).ConfigureAwait(false) is { } replay)
                {
                    return replay;
                }
                // The earlier job was withdrawn (its escrow refused): this one is a new attempt.
                continue;
            }
            var (job, row) = NewJob(caller, client, submission, idempotencyKey, requestHash);
            var decision = decisions.Register(job.Id);
            // Handed to this process's chain writer, which inserts it already signed in its next flight; else (another
            // process writes, or the writer gives it back) stored with concurrent submissions' jobs for the writer to find.
            var handOff = writer.HandOff(job, row);
            var counted = handOff is not null;
            if (counted)
            {
                Interlocked.Increment(ref _awaiting);
            }
            try
            {
                try
                {
                    if (handOff is null || await handOff.ConfigureAwait(false) == HandOffResult.NotTaken)
                    {
                        await _inserts.StoreAsync((job, row), cancellationToken).ConfigureAwait(false);
                        outboxSignal.Kick();
                        if (!counted)
                        {
                            Interlocked.Increment(ref _awaiting);
                            counted = true;
                        }
                    }
                }
                catch (System.Data.Common.DbException) when (idempotencyKey is not null && race < MaxKeyRaces)
                {
                    // A twin with this Idempotency-Key (in this process or another sharing the database) stored its job first.
                    decisions.Forget(job.Id);
                    continue;
                }
                catch
                {
                    decisions.Forget(job.Id);
                    throw;
                }
                switch (await WaitForDecisionAsync(job.Id, decision).ConfigureAwait(false))
                {
                    case SubmitDecision.Accepted:
                        metrics.Submission("accepted");
                        logger.LogInformation("job {JobId} accepted for client {Client} (model {Model}, max price {MaxPrice})", job.Id, job.ClientAddress, job.Model, job.MaxPriceMicro);
                        return new SubmitOutcome.Accepted(job, Replayed: false);
                    case SubmitDecision.Refused refused:
                        metrics.Submission("refused");
                        logger.LogInformation("job escrow refused for client {Client}: {Code} {Log}", job.ClientAddress, refused.Code, refused.Log);
                        return new SubmitOutcome.Refused(refused.Code, refused.Log);
                    case SubmitDecision.Unavailable unavailable:
                        metrics.Submission("unavailable");
                        return new SubmitOutcome.ChainUnavailable(unavailable.Error);
                    default:
                        return new SubmitOutcome.Undecided(job.Id);
                }
            }
            finally
            {
                if (counted)
                {
                    Interlocked.Decrement(ref _awaiting);
                }
            }
        }
    }

    /// <summary>The chain writer's decision on a stored job's escrow, or null when none came within the submit timeout.</summary>
    private async Task<SubmitDecision?> WaitForDecisionAsync(string jobId, Task<SubmitDecision> decision)
    {
        // The caller's cancellation is not used here: the job is stored, and its outcome is recorded whether or not anyone listens.
        using var timeout = new CancellationTokenSource(options.SubmitDecisionTimeout, options.Time);
        try
        {
            return await decision.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            decisions.Forget(jobId);
            metrics.Submission("undecided");
            return null;
        }
    }

    /// <summary>
    /// The answer to a retry of <paramref name="earlier"/>: a replay once its escrow is decided (waiting for the chain
    /// writer when it is not yet), or null when the writer withdrew it (its rows are gone, or its escrow was refused).
    /// </summary>
    private async Task<SubmitOutcome?> ReplayAsync(JobRecord earlier, string requestHash, CancellationToken cancellationToken)
    {
        if (earlier.RequestHash != requestHash)
        {
            return new SubmitOutcome.KeyReused(earlier.Id);
        }
        // Registered before the row is read: a decision made in between is not missed.
        var decision = decisions.Register(earlier.Id);
        var submit = (await store.OutboxForJobAsync(earlier.Id, cancellationToken).ConfigureAwait(false)).FirstOrDefault(r => r.Kind == OutboxKind.SubmitJob);
        // Undecided while its submit_job has no recorded attempt yet.
        if (submit is not { Status: OutboxStatus.Pending, Attempts: 0 })
        {
            decisions.Forget(earlier.Id);
            return submit is null ? null : new SubmitOutcome.Accepted(earlier, Replayed: true);
        }
        Interlocked.Increment(ref _awaiting);
        try
        {
            return await WaitForDecisionAsync(earlier.Id, decision).ConfigureAwait(false) switch
            {
                SubmitDecision.Accepted => new SubmitOutcome.Accepted(earlier, Replayed: true),
                null => new SubmitOutcome.Undecided(earlier.Id),
                _ => null,
            };
        }
        finally
        {
            Interlocked.Decrement(ref _awaiting);
        }
    }

    private (JobRecord Job, OutboxRecord Submit) NewJob(Caller caller, Address client, JobSubmission submission, string? idempotencyKey, string requestHash)
    {
        var now = Now;
        var jobId = NewJobId();
        var body = new SubmitJobBody(jobId, client, submission.PayloadHash(), submission.MaxPrice);
        var job = new JobRecord(jobId, client.Value, caller.KeyId, JobStatus.Pending, submission.Model, submission.Prompt,
            System.Text.Encoding.UTF8.GetString(CanonicalJson.Serialize(submission.Options)), submission.MaxPrice.Micro, body.PayloadHash,
            idempotencyKey, requestHash, now, null, null, now + (submission.TtlSeconds * 1000L), null, null, null, null)
        {
            TraceParent = System.Diagnostics.Activity.Current is { IdFormat: System.Diagnostics.ActivityIdFormat.W3C } current ? current.Id : null,
        };
        return (job, OutboxRows.SubmitJob(body, now));
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
