using System.Diagnostics;
using System.Globalization;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core.Crypto;
using Aitbc.Core.Proofs;
using Aitbc.Miner.Backends;
using Aitbc.Miner.Coordinator;
using Aitbc.Miner.Gpu;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aitbc.Miner.Jobs;

/// <summary>Why an assignment was refused; each maps to one HTTP status.</summary>
public enum Refusal
{
    None,
    NotRegistered,
    UnknownModel,
    Duplicate,
    DeadlinePassed,
    AtCapacity,

    /// <summary>The job asks for more tokens than this miner generates, at its measured rate, before the deadline.</summary>
    DeadlineTooShort,
}

/// <summary>
/// Accepts assignments (model, capacity, duplicate and deadline checks) and runs each in the background: reports
/// <c>running</c> (through the outbox, which drops the report if the outcome overtakes it), calls the backend under a cancellation tied to the job's deadline, then writes <c>complete</c> (with
/// the signed proof) or <c>fail</c> to the outbox. Stopping the host cancels running jobs, which then report <c>fail</c>.
/// </summary>
public sealed class JobService(
    IInferenceBackend backend,
    Ed25519KeyPair minerKey,
    Outbox.Outbox outbox,
    MinerSession session,
    GpuMonitor gpu,
    MinerOptions options,
    MinerMetrics metrics,
    ILogger<JobService> logger) : IHostedService
{
    /// <summary>Job ids remembered to refuse a repeated assignment; the oldest are forgotten past this many.</summary>
    private const int RememberedJobs = 10_000;

    private static readonly TimeSpan MaxTimer = TimeSpan.FromDays(40);

    private readonly Lock _gate = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Queue<string> _seenOrder = new();
    private readonly Dictionary<string, Task> _running = new(StringComparer.Ordinal);

    // The jobs holding a slot of capacity: a job gives its slot back before its outcome is queued, since the coordinator
    // may assign the next job the moment that outcome reaches it; it stays in _running (which a stop waits for) until its
    // outcome is written.
    private readonly HashSet<string> _holding = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>This miner's measured generation speed per model, from its completed jobs.</summary>
    public GenerationRates Rates { get; } = new();

    /// <summary>Jobs running now.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _holding.Count;
            }
        }
    }

    /// <summary>Checks <paramref name="job"/> and, when it is acceptable, starts it in the background.</summary>
    /// <param name="deadline">The job's parsed deadline.</param>
    /// <param name="receivedAt">When the assignment arrived (<see cref="Stopwatch.GetTimestamp"/>), for the overhead metric.</param>
    public Refusal TryAccept(JobAssignment job, DateTimeOffset deadline, long receivedAt)
    {
        if (!session.Serves(job.JobData.Model))
        {
            return Refused(Refusal.UnknownModel);
        }
        if (deadline <= options.Time.GetUtcNow())
        {
            return Refused(Refusal.DeadlinePassed);
        }
        // A job it cannot finish in time would time out and cost this miner reputation: refused now, the coordinator
        // offers it to another miner. Only a job that says how many tokens it wants, on a model this miner has measured.
        if (job.JobData.Options?.NumPredict is { } tokens && Rates.TimeFor(job.JobData.Model, tokens) is { } needed
            && deadline - options.Time.GetUtcNow() < needed)
        {
            return Refused(Refusal.DeadlineTooShort);
        }
        lock (_gate)
        {
            if (_seen.Contains(job.JobId))
            {
                return Refused(Refusal.Duplicate);
            }
            if (_holding.Count >= options.Capacity)
            {
                return Refused(Refusal.AtCapacity);
            }
            _seen.Add(job.JobId);
            _seenOrder.Enqueue(job.JobId);
            if (_seenOrder.Count > RememberedJobs)
            {
                _seen.Remove(_seenOrder.Dequeue());
            }
            // Added under the lock the job's own removal takes, so even an instant job is counted before it is removed.
            _holding.Add(job.JobId);
            _running[job.JobId] = Task.Run(() => RunAsync(job, deadline, receivedAt));
            metrics.InFlight(_holding.Count);
        }
        return Refusal.None;
    }

    private Refusal Refused(Refusal refusal)
    {
        metrics.Refused(refusal switch
        {
            Refusal.UnknownModel => "unknown_model",
            Refusal.DeadlinePassed => "deadline_passed",
            Refusal.Duplicate => "duplicate",
            Refusal.AtCapacity => "at_capacity",
            Refusal.DeadlineTooShort => "deadline_too_short",
            _ => "not_registered",
        });
        return refusal;
    }

    private async Task RunAsync(JobAssignment job, DateTimeOffset deadline, long receivedAt)
    {
        var jobId = job.JobId;
        // Started inside the assignment request, so the job's run continues the coordinator's trace.
        using var activity = MinerTracing.Source.StartActivity("job run");
        activity?.SetTag("aitbc.job_id", jobId);
        activity?.SetTag("aitbc.model", job.JobData.Model);
        try
        {
            outbox.Running(jobId, new JobStatusUpdate(JobStatus.Running, Rfc3339(options.Time.GetUtcNow())));
            var remaining = deadline - options.Time.GetUtcNow();
            // A timer cannot wait longer than ~49 days; a deadline further out than MaxTimer is as good as none.
            using var deadlineCts = new CancellationTokenSource(remaining <= TimeSpan.Zero ? TimeSpan.Zero : remaining > MaxTimer ? MaxTimer : remaining, options.Time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadlineCts.Token, _stopping.Token);
            var request = new InferenceRequest(session.Resolve(job.JobData.Model) ?? job.JobData.Model, job.JobData.Prompt,
                job.JobData.Options is { } o ? new InferenceOptions(o.Temperature, o.NumPredict, o.Seed) : null);
            await using var sampler = GpuJobSampler.Start(gpu, options.GpuSampleInterval, options.Time);
            metrics.Overhead("dispatch", Stopwatch.GetElapsedTime(receivedAt));
            var watch = Stopwatch.StartNew();
            InferenceResult result;
            try
            {
                // Its own span, so the backend's time shows apart from the miner's; an HTTP backend's call is its child.
                using var call = MinerTracing.Source.StartActivity("backend generate", ActivityKind.Client);
                result = await backend.GenerateAsync(request, linked.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                // Every backend failure becomes a fail the job's owner can read; only a fault in reporting it is left to the deadline.
                var (outcome, error) = deadlineCts.IsCancellationRequested ? ("deadline_exceeded", "deadline exceeded")
                    : _stopping.IsCancellationRequested ? ("failed", "miner stopped before the job finished")
                    : ("failed", e.Message);
                metrics.BackendCall(outcome, watch.Elapsed);
                ReleaseSlot(jobId);
                outbox.Fail(jobId, new JobFailure(error));
                metrics.JobFinished(outcome);
                logger.LogWarning("job {JobId} ({Model}) failed after {Elapsed:0.000} s: {Error}", jobId, job.JobData.Model, watch.Elapsed.TotalSeconds, error);
                return;
            }
            var backendDone = Stopwatch.GetTimestamp();
            metrics.BackendCall("ok", watch.Elapsed);
            var usage = await sampler.StopAsync().ConfigureAwait(false);
            var completion = Completion(job, result, usage);
            ReleaseSlot(jobId);
            outbox.Complete(jobId, completion);
            metrics.Overhead("report", Stopwatch.GetElapsedTime(backendDone));
            metrics.Completed(result.Metrics.ComputeTime, result.Metrics.TokensGenerated);
            Rates.Record(job.JobData.Model, result.Metrics.TokensGenerated, result.Metrics.ComputeTime);
            metrics.JobFinished("completed");
            logger.LogInformation("job {JobId} ({Model}) completed: {Tokens} tokens in {ComputeTime:0.000} s",
                jobId, job.JobData.Model, result.Metrics.TokensGenerated, result.Metrics.ComputeTime);
        }
        catch (Exception e)
        {
            // A bug or a broken outbox database: say so once; the coordinator's deadline frees the job.
            logger.LogError(e, "job {JobId} could not be run or reported", jobId);
            metrics.JobFinished("error");
        }
        finally
        {
            ReleaseSlot(jobId);
            lock (_gate)
            {
                _running.Remove(jobId);
            }
        }
    }

    private void ReleaseSlot(string jobId)
    {
        lock (_gate)
        {
            if (_holding.Remove(jobId))
            {
                metrics.InFlight(_holding.Count);
            }
        }
    }

    private JobCompletion Completion(JobAssignment job, InferenceResult result, GpuUsage? usage)
    {
        // Rounded once, so the value signed is the value sent (the coordinator re-derives the proof from the metrics).
        var computeTime = Math.Round(result.Metrics.ComputeTime, 6);
        var resultHash = Hashing.ContentHash(result.Text);
        var proof = new MinerProof(job.JobId, job.JobData.Model, Hashing.ContentHash(job.JobData.Prompt), resultHash, computeTime, result.Metrics.TokensGenerated);
        return new JobCompletion(job.JobId, result.Text,
            new JobMetrics(computeTime, result.Metrics.TokensGenerated, result.Metrics.PromptTokens, usage?.MeanUtilizationPercent),
            new ProofEnvelope(resultHash, proof.Sign(minerKey)));
    }

    internal static string Rfc3339(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Cancels running jobs and waits until each has written its <c>fail</c> to the outbox.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task[] running;
        lock (_gate)
        {
            running = [.. _running.Values];
        }
        await Task.WhenAll(running).WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
