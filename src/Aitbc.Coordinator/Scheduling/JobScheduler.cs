using System.Diagnostics;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Client.Miner;
using Aitbc.Client.Rest;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Chain;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Miners;
using Aitbc.Coordinator.Storage;
using Aitbc.Core;
using Aitbc.Core.Threading;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aitbc.Coordinator.Scheduling;

/// <summary>Wakes the scheduler: a job was submitted, a miner registered or heartbeat, a job ended and freed capacity.</summary>
public sealed class SchedulerSignal : Cluster.RelayedSignal;

/// <summary>
/// Assigns pending jobs to miners, oldest job first, and sweeps jobs that can no longer finish. Each pass: fail jobs past
/// their deadline, and jobs held by a miner that went offline (no requeue: the miner may still be running it); then for
/// each pending job either fail it (no miner within <see cref="CoordinatorOptions.QueueTimeout"/>) or offer it to eligible
/// miners in <see cref="MinerRanking"/> order — claim for the best with a conditional UPDATE (every claim of a pass in one
/// transaction), push <c>POST /v1/jobs/assign</c> (the pushes of a pass concurrently), and on a refusal or network error put it back to pending, remember the refusal
/// and kick the next pass, which offers it to the next. Every failure queues the refund in the same database transaction.
/// </summary>
public sealed class JobScheduler(
    ICoordinatorStore store,
    SchedulerSignal signal,
    MinerStakes stakes,
    MinerClient minerClient,
    AssignKeys assignKeys,
    OutboxSignal outboxSignal,
    JobSignals jobSignals,
    CoordinatorMetrics metrics,
    CoordinatorOptions options,
    ILogger<JobScheduler> logger)
{
    private const int BatchSize = 200;
    private static readonly string[] Waiting = [JobStatus.Pending];
    private static readonly string[] Unfinished = [JobStatus.Pending, JobStatus.Assigned, JobStatus.Running];
    private static readonly string[] Held = [JobStatus.Assigned, JobStatus.Running];

    private readonly Dictionary<(string Job, string Miner), long> _refusals = [];

    /// <summary>When this process started scheduling: a miner cannot have reached a coordinator that was down.</summary>
    private readonly long _startedAt = options.Time.GetUtcNow().ToUnixTimeMilliseconds();

    private long Now => options.Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Whom a missed deadline counts against: the miner that held the job, only if it had fair time for the job's size
    /// (<see cref="CoordinatorOptions.FairJobBase"/> plus its num_predict at <see cref="CoordinatorOptions.FairTokensPerSecond"/>).
    /// A client that sets an impossible deadline for a rival's model gets its refund, and the rival keeps its reputation.
    /// </summary>
    internal MinerOutcome TimeoutOutcome(JobRecord job)
    {
        if (job.Miner is null || job.AssignedAt is not { } assignedAt)
        {
            return MinerOutcome.None;
        }
        var fairMs = options.FairJobBase.TotalMilliseconds + (1000.0 * TokensAsked(job) / options.FairTokensPerSecond);
        return job.DeadlineAt - assignedAt >= fairMs ? MinerOutcome.TimedOut : MinerOutcome.None;
    }

    /// <summary>The job's num_predict, or Ollama's long-standing default (128) when the client left it out.</summary>
    private static int TokensAsked(JobRecord job) =>
        JsonSerializer.Deserialize<JobOptions>(job.OptionsJson, RestJson.Options)?.NumPredict ?? DefaultNumPredict;

    private const int DefaultNumPredict = 128;

    /// <summary>One pass over sweeps and the queue.</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        var miners = await store.ListMinersAsync(cancellationToken).ConfigureAwait(false);
        var online = miners.Where(m => MinerEndpoints.IsOnline(m, now, options)).ToDictionary(m => m.Address, StringComparer.Ordinal);
        metrics.MinersOnline(online.Count);

        foreach (var job in await store.JobsPastDeadlineAsync(now, cancellationToken).ConfigureAwait(false))
        {
            await FailAsync(job, "deadline exceeded", Unfinished, TimeoutOutcome(job), now, cancellationToken).ConfigureAwait(false);
        }
        // A miner silent only because this coordinator was down (killed, restarted) is not offline: its heartbeats are
        // counted from our start as well, so a restart does not fail every job in flight while the miners still run them.
        var heard = miners.Where(m => MinerEndpoints.IsOnline(m with { LastSeen = Math.Max(m.LastSeen, _startedAt) }, now, options))
            .Select(m => m.Address).ToHashSet(StringComparer.Ordinal);
        var active = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var job in await store.ActiveJobsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (job.Miner is null || !heard.Contains(job.Miner))
            {
                await FailAsync(job, "the miner went offline", Held, MinerOutcome.Failed, now, cancellationToken).ConfigureAwait(false);
                continue;
            }
            active[job.Miner] = active.GetValueOrDefault(job.Miner) + 1;
        }

        foreach (var key in _refusals.Where(r => r.Value <= now).Select(r => r.Key).ToList())
        {
            _refusals.Remove(key);
        }
        var pending = await PendingAsync(online.Values, active, now, cancellationToken).ConfigureAwait(false);
        // Each job's miner is chosen counting the slots the pass's earlier choices take; then all the choices are claimed
        // in one transaction (one commit instead of one per job), and the pushes to the miners run concurrently: one
        // miner's round trip does not hold up the rest of the queue.
        var chosen = new List<(JobRecord Job, MinerRecord Miner)>();
        foreach (var job in pending)
        {
            if (now - job.SubmittedAt >= (long)options.QueueTimeout.TotalMilliseconds)
            {
                await FailAsync(job, "no miner available", Waiting, MinerOutcome.None, now, cancellationToken).ConfigureAwait(false);
                continue;
            }
            var candidates = new List<(MinerRecord, Amount)>();
            foreach (var miner in online.Values)
            {
                if (!miner.Models.Contains(job.Model, StringComparer.Ordinal) || active.GetValueOrDefault(miner.Address) >= miner.Capacity
                    || _refusals.ContainsKey((job.Id, miner.Address)))
                {
                    continue;
                }
                if (await stakes.GetAsync(miner.Address, cancellationToken).ConfigureAwait(false) is { IsZero: false } stake)
                {
                    candidates.Add((miner, stake));
                }
            }
            // The best-ranked miner gets the offer; if it refuses, the job is pending again and the next pass (kicked at once)
            // offers it to the next, the refusal remembered.
            if (MinerRanking.Rank(candidates).FirstOrDefault() is not { } best)
            {
                continue;
            }
            active[best.Address] = active.GetValueOrDefault(best.Address) + 1;
            chosen.Add((job, best));
        }
        var claimed = await store.AssignJobsAsync([.. chosen.Select(c => new JobClaim(c.Job.Id, c.Miner.Address, c.Miner.PricePerSecondMicro))], Now, cancellationToken)
            .ConfigureAwait(false);
        var pushes = new List<(JobRecord Job, MinerRecord Miner, Task<AssignResult> Push)>();
        foreach (var (job, miner) in chosen)
        {
            if (claimed.Contains(job.Id))
            {
                jobSignals.Notify(job.Id);
                pushes.Add((job, miner, PushAsync(job, miner, cancellationToken)));
            }
        }
        var refused = false;
        foreach (var (job, miner, push) in pushes)
        {
            if (await push.ConfigureAwait(false) == AssignResult.Refused)
            {
                _refusals[(job.Id, miner.Address)] = Now + (long)options.RefusalMemory.TotalMilliseconds;
                refused = true;
            }
        }
        // A job not claimed (cancelled, or another coordinator's now) held a slot in this pass's count that is free:
        // the next pass, kicked at once, may give it to a job this one passed over.
        if (refused || pushes.Count < chosen.Count)
        {
            signal.Kick();
        }
    }

    /// <summary>
    /// The queue's oldest jobs. When no online miner has a free slot nothing can be assigned, so only the oldest job is
    /// read unless it is already past the queue timeout: a backlog with every miner busy (or none online) costs one row
    /// a pass, not <see cref="BatchSize"/>.
    /// </summary>
    private async Task<IReadOnlyList<JobRecord>> PendingAsync(IEnumerable<MinerRecord> online, Dictionary<string, int> active, long now, CancellationToken cancellationToken)
    {
        if (!online.Any(m => active.GetValueOrDefault(m.Address) < m.Capacity))
        {
            var oldest = await store.PendingJobsAsync(1, cancellationToken).ConfigureAwait(false);
            if (oldest.Count == 0 || now - oldest[0].SubmittedAt < (long)options.QueueTimeout.TotalMilliseconds)
            {
                return [];
            }
        }
        var pending = await store.PendingJobsAsync(BatchSize, cancellationToken).ConfigureAwait(false);
        metrics.QueueDepth(pending.Count);
        return pending;
    }

    private enum AssignResult
    {
        Assigned,
        Refused,
        JobGone,
    }

    /// <summary>Offers a job just claimed for <paramref name="miner"/>; on a refusal or network error puts it back to pending.</summary>
    private async Task<AssignResult> PushAsync(JobRecord job, MinerRecord miner, CancellationToken cancellationToken)
    {
        // Off the caller's thread at once: the scheduler goes on claiming while this push is under way.
        await Task.Yield();
        // The push's span, in the trace of the request that submitted the job; its HTTP call carries the trace to the miner,
        // whose job run continues it.
        using var activity = CoordinatorTracing.Source.StartActivity("job assign", ActivityKind.Internal,
            ActivityContext.TryParse(job.TraceParent, null, out var submitted) ? submitted : default);
        activity?.SetTag("aitbc.job_id", job.Id);
        activity?.SetTag("aitbc.miner", miner.Address);
        var assignment = new JobAssignment(job.Id,
            new JobData(JobLimits.InferenceType, job.Prompt, job.Model, JsonSerializer.Deserialize<JobOptions>(job.OptionsJson, RestJson.Options)),
            new Amount(job.MaxPriceMicro).ToAitbcString(), Timestamps.Format(job.DeadlineAt));
        string reason;
        try
        {
            var answer = await minerClient.AssignAsync(new Uri(miner.Endpoint), assignKeys.For(miner.PubKey), assignment, cancellationToken).ConfigureAwait(false);
            if (answer.Accepted)
            {
                metrics.Assigned(TimeSpan.FromMilliseconds(Now - job.SubmittedAt));
                logger.LogInformation("job {JobId} assigned to miner {Miner}", job.Id, miner.Address);
                return AssignResult.Assigned;
            }
            reason = $"{(int)answer.Status}: {answer.Reason}";
        }
        catch (Exception e) when (e is RestClientException or HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            reason = e.Message;
        }
        activity?.SetStatus(ActivityStatusCode.Error, reason);
        logger.LogInformation("miner {Miner} did not take job {JobId}: {Reason}", miner.Address, job.Id, reason);
        if (!await store.UnassignJobAsync(job.Id, miner.Address, Now, CancellationToken.None).ConfigureAwait(false))
        {
            // The job moved on meanwhile (cancelled, or the miner already reported on it).
            return AssignResult.JobGone;
        }
        jobSignals.Notify(job.Id);
        return AssignResult.Refused;
    }

    private async Task FailAsync(JobRecord job, string error, IReadOnlyList<string> from, MinerOutcome outcome, long now, CancellationToken cancellationToken)
    {
        if (await store.FailJobWithRefundAsync(job.Id, error, from, null, outcome, OutboxRows.Refund(job.Id, error, now), now, cancellationToken).ConfigureAwait(false))
        {
            logger.LogInformation("job {JobId} failed: {Error}; refund queued", job.Id, error);
            metrics.JobFailed(error);
            jobSignals.Notify(job.Id);
            outboxSignal.Kick();
        }
    }
}

/// <summary>Runs <see cref="JobScheduler"/> on a kick or at the poll interval, on the options' clock.</summary>
public sealed class SchedulerWorker(JobScheduler scheduler, SchedulerSignal signal, CoordinatorOptions options, ILogger<SchedulerWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await scheduler.RunOnceAsync(stoppingToken).ConfigureAwait(false);
                await signal.WaitAsync(options.SchedulerPollInterval, options.Time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "scheduler pass failed");
                try
                {
                    await Task.Delay(options.SchedulerPollInterval, options.Time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
