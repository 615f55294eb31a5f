using System.Net;
using System.Text.Json;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Http;
using Aitbc.Client.Rest;
using Aitbc.Contracts.Coordinator;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aitbc.Miner.Outbox;

/// <summary>
/// Delivers outbox messages to the coordinator, oldest first: each job's messages strictly in order (so a <c>running</c>
/// that is sent arrives before <c>complete</c>; one its outcome overtook in the outbox is not sent at all, see
/// <see cref="OutboxStore.Add"/>), different jobs' messages concurrently (up to <see cref="MaxConcurrentJobs"/> jobs
/// at once), so one slow answer does not hold up every other job's result. Network errors, 5xx, 408, 429 and auth
/// failures are retried forever with <see cref="RetryBackoff"/>'s exponential backoff and jitter, across restarts; any other 4xx means the
/// coordinator has already decided about the job, so the message is dropped with a warning; a 2xx deletes it.
/// </summary>
internal sealed class OutboxWorker(
    Outbox outbox, CoordinatorClient coordinator, MinerOptions options, MinerMetrics metrics, ILogger<OutboxWorker> logger) : BackgroundService
{
    /// <summary>How long an empty outbox waits before looking again without being woken.</summary>
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a delivery already sent may still take its answer once the miner is stopping: cut off mid-flight, a message
    /// the coordinator has already stored would stay in the outbox too and be sent again at the next start.
    /// </summary>
    internal static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(5);

    /// <summary>Jobs whose messages are delivered at the same time.</summary>
    internal const int MaxConcurrentJobs = 32;

    /// <summary>Messages read per pass: enough for every concurrent job to have a running and a complete.</summary>
    private const int PassSize = MaxConcurrentJobs * 4;

    private enum Result
    {
        Delivered,
        Refused,
        Transient,
    }

    /// <summary>Failed passes in a row: the attempt number the log and the delivery report name.</summary>
    private int _failures;

    /// <summary>Whether the last pass found the outbox empty.</summary>
    private bool _idle;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        if (outbox.Store.Count() is var pending and > 0)
        {
            logger.LogInformation("resuming {Count} undelivered outbox message(s)", pending);
        }
        // Passes run again until one delivers everything it read, backing off after each that left a message undelivered
        // and after an unexpected error (the database or a bug: the worker must never die, or nothing would be
        // delivered until a restart).
        var passes = RetryBackoff.Forever<bool>(options.OutboxBaseBackoff, options.OutboxMaxBackoff, options.Time,
            outcome => outcome.Exception is null ? !outcome.Result : outcome.Exception is not OperationCanceledException,
            args =>
            {
                if (args.Outcome.Exception is { } e)
                {
                    logger.LogError(e, "outbox worker error; retrying");
                }
                return ValueTask.CompletedTask;
            });
        // Requests in flight end on this token: ShutdownGrace after stopping begins, not at once.
        using var inFlight = new CancellationTokenSource();
        using var stopping = stoppingToken.Register(() => inFlight.CancelAfter(ShutdownGrace));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await passes.ExecuteAsync(async token => await PassAsync(token, inFlight.Token).ConfigureAwait(false), stoppingToken).ConfigureAwait(false);
                if (_idle)
                {
                    await outbox.WaitAsync(IdlePoll, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>One pass over the oldest messages; false when one could not be delivered yet.</summary>
    private async ValueTask<bool> PassAsync(CancellationToken stoppingToken, CancellationToken inFlight)
    {
        var messages = outbox.Store.Oldest(PassSize);
        _idle = messages.Count == 0;
        // Per job in id order; the jobs whose oldest message is oldest go first.
        var jobs = messages.GroupBy(m => m.JobId, StringComparer.Ordinal).Take(MaxConcurrentJobs).ToList();
        var outcomes = await Task.WhenAll(jobs.Select(job => DeliverJobAsync(job.ToList(), _failures, stoppingToken, inFlight))).ConfigureAwait(false);
        var delivered = outcomes.All(d => d);
        _failures = delivered ? 0 : _failures + 1;
        return delivered;
    }

    /// <summary>Delivers one job's messages in order; false when one could not be delivered yet (it and the rest of the job's wait).</summary>
    private async Task<bool> DeliverJobAsync(List<OutboxMessage> messages, int failures, CancellationToken stoppingToken, CancellationToken inFlight)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            // Stopping: nothing new is sent; what is queued waits in the outbox for the next start.
            stoppingToken.ThrowIfCancellationRequested();
            var message = messages[i];
            if (message.Kind == OutboxKind.Status && (!outbox.Store.Contains(message.Id) || messages.Skip(i + 1).Any(m => m.Kind != OutboxKind.Status)))
            {
                // Superseded by the job's outcome since this pass read it (or, from an older miner, queued before it):
                // the coordinator takes the outcome from assigned, so the running report is not worth a request.
                outbox.Store.Remove(message.Id);
                continue;
            }
            var (result, detail) = await DeliverAsync(message, inFlight).ConfigureAwait(false);
            metrics.Delivery(Name(message.Kind), result.ToString().ToLowerInvariant());
            if (result == Result.Transient)
            {
                var attempt = failures + 1;
                if (attempt == 1 || attempt % 10 == 0)
                {
                    logger.LogWarning("outbox: {Kind} for job {JobId} not delivered ({Error}); attempt {Attempt}, next in up to {Delay:0.0} s",
                        Name(message.Kind), message.JobId, detail, attempt, RetryBackoff.Delay(attempt, options.OutboxBaseBackoff, options.OutboxMaxBackoff).TotalSeconds);
                }
                return false;
            }
            if (result == Result.Refused)
            {
                logger.LogWarning("outbox: coordinator refused {Kind} for job {JobId} for good ({Error}); dropped",
                    Name(message.Kind), message.JobId, detail);
            }
            else if (failures > 0)
            {
                logger.LogInformation("outbox: {Kind} for job {JobId} delivered after {Attempts} attempts", Name(message.Kind), message.JobId, failures + 1);
            }
            outbox.Store.Remove(message.Id);
        }
        return true;
    }

    private async Task<(Result, string?)> DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        try
        {
            switch (message.Kind)
            {
                case OutboxKind.Status:
                    await coordinator.ReportJobStatusAsync(message.JobId, Read<JobStatusUpdate>(message), cancellationToken).ConfigureAwait(false);
                    break;
                case OutboxKind.Complete:
                    await coordinator.CompleteJobAsync(message.JobId, Read<JobCompletion>(message), cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    await coordinator.FailJobAsync(message.JobId, Read<JobFailure>(message), cancellationToken).ConfigureAwait(false);
                    break;
            }
            return (Result.Delivered, null);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            return (Result.Refused, $"unreadable message: {e.Message}");
        }
        catch (RestApiException e) when (IsFinal(e.StatusCode))
        {
            return (Result.Refused, $"{(int)e.StatusCode} {e.Message}");
        }
        catch (RestApiException e)
        {
            return (Result.Transient, $"{(int)e.StatusCode} {e.Message}");
        }
        catch (Exception e) when (e is RestClientException or HttpRequestException or TimeoutException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return (Result.Transient, e.Message);
        }
    }

    /// <summary>A 4xx the coordinator will answer the same way every time; auth failures are not (an operator can fix a key).</summary>
    private static bool IsFinal(HttpStatusCode status) =>
        (int)status is >= 400 and < 500
        && status is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden);

    private static T Read<T>(OutboxMessage message) =>
        JsonSerializer.Deserialize<T>(message.Body, RestJson.Options) ?? throw new InvalidDataException($"outbox message {message.Id} is JSON null");

    private static string Name(OutboxKind kind) => kind switch
    {
        OutboxKind.Status => "status",
        OutboxKind.Complete => "complete",
        _ => "fail",
    };
}
