using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Http;
using Aitbc.Coordinator.Storage;
using Aitbc.Core.Json;
using Aitbc.Core.Transactions;
using Aitbc.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Aitbc.Coordinator.Jobs;

/// <summary><c>/v1/jobs</c>: submit, read (with long-poll), list and cancel (docs/protocol.md, "Coordinator REST").</summary>
public static class JobEndpoints
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    private const int MaxIdempotencyKeyLength = 200;
    private const int DefaultPageSize = 20;
    private const int MaxPageSize = 100;

    public static RouteGroupBuilder MapJobEndpoints(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/v1/jobs").WithTags("jobs");
        jobs.MapPost("/", SubmitAsync).RequireApiKey(Roles.Client).Routine();
        jobs.MapGet("/", ListAsync).RequireApiKey(Roles.Client);
        jobs.MapGet("/{id}", GetAsync).RequireApiKey(Roles.Client, Roles.Admin).Routine();
        jobs.MapPost("/{id}/cancel", CancelAsync).RequireApiKey(Roles.Client);
        return jobs;
    }

    private static async Task<Results<Created<JobAccepted>, ValidationProblem, ProblemHttpResult>> SubmitAsync(
        HttpContext context, JobService service, CoordinatorOptions options, CoordinatorMetrics metrics, CancellationToken cancellationToken)
    {
        var caller = Caller.Of(context);
        if (caller.Address is null)
        {
            return Problems.Forbidden("this client key is bound to no wallet address; ask an admin for a key with one");
        }
        if (!context.Request.HasJsonContentType())
        {
            return Problems.UnsupportedMediaType("send the job as application/json");
        }
        var idempotencyKey = context.Request.Headers[IdempotencyKeyHeader].FirstOrDefault();
        if (idempotencyKey is not null && (idempotencyKey.Length is 0 or > MaxIdempotencyKeyLength || idempotencyKey.Any(char.IsControl)))
        {
            return Problems.Validation(new Dictionary<string, string[]> { [IdempotencyKeyHeader] = [$"{IdempotencyKeyHeader} must be 1 to {MaxIdempotencyKeyLength} printable characters"] });
        }

        JsonDocument document;
        try
        {
            // Kestrel enforces MaxRequestBodySize while this reads: an oversized body throws before it is buffered.
            document = await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = 16 }, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            metrics.Submission("invalid");
            return Problems.BadRequest($"the body is not valid JSON: {e.Message}");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            metrics.Submission("invalid");
            return Problems.PayloadTooLarge($"the body is larger than {options.MaxRequestBodyBytes} bytes");
        }
        using (document)
        {
            // Canonical form first: it walks the whole body, so JSON that JCS cannot represent (a duplicate member,
            // a number beyond double, a lone surrogate) is refused here, before any field is read.
            string requestHash;
            try
            {
                requestHash = JobService.RequestHash(document.RootElement);
            }
            catch (Exception e) when (e is CanonicalJsonException or InvalidOperationException or JsonException)
            {
                metrics.Submission("invalid");
                return Problems.BadRequest($"the body is not representable as canonical JSON (RFC 8785): {e.Message}");
            }
            var submission = JobRequestParser.Parse(document.RootElement, options, out var errors);
            if (submission is null)
            {
                metrics.Submission("invalid");
                return Problems.Validation(errors);
            }
            // The submission's span: the chain writer's flight that escrows the job links to it, and the job's assignment continues its trace.
            using var activity = CoordinatorTracing.Source.StartActivity("job submit");
            activity?.SetTag("aitbc.model", submission.Model);
            var outcome = await service.SubmitAsync(caller, submission, idempotencyKey, requestHash, cancellationToken).ConfigureAwait(false);
            if (outcome is not SubmitOutcome.Accepted)
            {
                activity?.SetStatus(ActivityStatusCode.Error, outcome.GetType().Name);
            }
            switch (outcome)
            {
                case SubmitOutcome.Accepted accepted:
                    activity?.SetTag("aitbc.job_id", accepted.Job.Id);
                    if (accepted.Replayed)
                    {
                        metrics.Submission("replayed");
                    }
                    var job = accepted.Job;
                    return TypedResults.Created($"/v1/jobs/{job.Id}", new JobAccepted(job.Id, JobStatus.Pending, Timestamps.Format(job.SubmittedAt)));
                case SubmitOutcome.KeyReused reused:
                    return Problems.Unprocessable($"{IdempotencyKeyHeader} was already used for job {reused.JobId} with a different body");
                case SubmitOutcome.Refused { Code: TxCode.InsufficientAllowance or TxCode.InsufficientFunds } refused:
                    return Problems.PaymentRequired($"the chain refused to escrow the job's budget: {refused.Log}. "
                        + "Approve the coordinator for at least max_price (aitbc wallet approve) and keep that much in the wallet.");
                case SubmitOutcome.Refused refused:
                    return Problems.BadGateway($"the chain refused the job's escrow ({refused.Code}): {refused.Log}");
                case SubmitOutcome.ChainUnavailable unavailable:
                    // The job was withdrawn: the client may simply retry (with the same Idempotency-Key).
                    context.Response.Headers.RetryAfter = "5";
                    return Problems.Unavailable($"the chain is unreachable, so no escrow could be opened; retry later ({unavailable.Error})");
                case SubmitOutcome.Undecided undecided:
                    context.Response.Headers.RetryAfter = "5";
                    return Problems.Unavailable($"the escrow of job {undecided.JobId} was not decided within {options.SubmitDecisionTimeout.TotalSeconds:0} s; "
                        + $"retry with the same {IdempotencyKeyHeader} to learn whether it went ahead");
                default:
                    throw new InvalidOperationException($"unexpected outcome {outcome}");
            }
        }
    }

    private static async Task<Results<Ok<JobView>, ValidationProblem, ProblemHttpResult>> GetAsync(
        HttpContext context, string id, [FromQuery] string? wait, ICoordinatorStore store, JobSignals signals, LongPolls longPolls, CoordinatorMetrics metrics,
        CoordinatorOptions options, CancellationToken cancellationToken)
    {
        var caller = Caller.Of(context);
        var waitSeconds = 0;
        if (wait is not null && (!QueryNumbers.TryParse(wait, out waitSeconds) || waitSeconds > options.MaxWaitSeconds))
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["wait"] = [$"wait must be an integer from 0 to {options.MaxWaitSeconds} (seconds)"] });
        }
        using var subscription = signals.Subscribe(id);
        var job = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false);
        // Another client's job reads as missing: its existence is not theirs to learn.
        if (job is null || (!caller.IsAdmin && job.ClientAddress != caller.Address))
        {
            return Problems.NotFound($"no job {id}");
        }
        if (waitSeconds > 0 && !JobStatus.IsTerminal(JobViews.VisibleStatus(job)))
        {
            // Over the key's cap: refused at once rather than answered without waiting, so that a client polling in a loop
            // backs off (Retry-After) instead of spinning on immediate answers.
            using var place = longPolls.TryEnter(caller.KeyId);
            if (place is null)
            {
                metrics.LongPollRefused();
                context.Response.Headers.RetryAfter = "1";
                return Problems.TooManyRequests($"this API key already holds {options.MaxLongPollsPerKey} GET ?wait= requests open; "
                    + "wait for one to end, or retry without wait");
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(waitSeconds), options.Time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            var expired = Task.Delay(Timeout.Infinite, linked.Token);
            while (!JobStatus.IsTerminal(JobViews.VisibleStatus(job)))
            {
                if (await Task.WhenAny(subscription.Changed, expired).ConfigureAwait(false) == expired)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    break;
                }
                subscription.Renew();
                job = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? job;
            }
        }
        return TypedResults.Ok(JobView.From(job));
    }

    private static async Task<Results<Ok<JobPage>, ValidationProblem>> ListAsync(
        HttpContext context, [FromQuery] string? cursor, [FromQuery] string? limit, ICoordinatorStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.Of(context);
        var errors = new Dictionary<string, string[]>();
        var pageSize = DefaultPageSize;
        if (limit is not null && (!QueryNumbers.TryParse(limit, out pageSize) || pageSize is < 1 or > MaxPageSize))
        {
            errors["limit"] = [$"limit must be an integer from 1 to {MaxPageSize}"];
        }
        JobCursor? after = null;
        if (cursor is not null && !TryDecodeCursor(cursor, out after))
        {
            errors["cursor"] = ["cursor must be a next_cursor from an earlier page"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        if (caller.Address is null)
        {
            return TypedResults.Ok(new JobPage([], null));
        }
        // One extra row tells whether another page follows.
        var rows = await store.ListJobsAsync(caller.Address, after, pageSize + 1, cancellationToken).ConfigureAwait(false);
        var page = rows.Take(pageSize).ToList();
        var next = rows.Count > pageSize ? EncodeCursor(new JobCursor(page[^1].SubmittedAt, page[^1].Id)) : null;
        return TypedResults.Ok(new JobPage([.. page.Select(j => JobView.From(j))], next));
    }

    private static async Task<Results<Ok<JobView>, ProblemHttpResult>> CancelAsync(
        HttpContext context, string id, ICoordinatorStore store, JobService service, CancellationToken cancellationToken)
    {
        var caller = Caller.Of(context);
        var job = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false);
        if (job is null || job.ClientAddress != caller.Address)
        {
            return Problems.NotFound($"no job {id}");
        }
        if (!await service.CancelAsync(job, cancellationToken).ConfigureAwait(false))
        {
            var now = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? job;
            return Problems.Conflict($"job {id} is {now.Status}; only pending or assigned jobs can be cancelled");
        }
        var cancelled = await store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? job;
        return TypedResults.Ok(JobView.From(cancelled));
    }

    private static string EncodeCursor(JobCursor cursor) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{cursor.SubmittedAt}:{cursor.Id}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecodeCursor(string text, out JobCursor? cursor)
    {
        cursor = null;
        try
        {
            var padded = text.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - (padded.Length % 4)) % 4);
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(padded));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && QueryNumbers.TryParse(decoded.AsSpan(0, colon), out long at))
            {
                cursor = new JobCursor(at, decoded[(colon + 1)..]);
                return true;
            }
        }
        catch (FormatException)
        {
        }
        return false;
    }
}
