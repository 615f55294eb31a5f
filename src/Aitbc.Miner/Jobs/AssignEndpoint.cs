using System.Globalization;
using System.Text.Json;
using Aitbc.Contracts.Coordinator;
using Aitbc.Miner.Coordinator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Aitbc.Miner.Jobs;

/// <summary><c>POST /v1/jobs/assign</c> (docs/protocol.md, "Miner REST"): the coordinator pushes a job, the miner answers 202 at once.</summary>
public static partial class AssignEndpoint
{
    private static readonly JsonSerializerOptions Json = CreateJson();

    public static IEndpointRouteBuilder MapAssignEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/jobs/assign", AssignAsync);
        return app;
    }

    internal static async Task<IResult> AssignAsync(HttpContext context, MinerSession session, JobService jobs, MinerOptions options)
    {
        var receivedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!session.Registered)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "Service Unavailable", "the miner is not registered with the coordinator yet");
        }
        if (!session.IsAssignKey(context.Request.Headers[CoordinatorHeaders.ApiKey].FirstOrDefault()))
        {
            return Problem(StatusCodes.Status401Unauthorized, "Unauthorized", $"{CoordinatorHeaders.ApiKey} must be the assign key this miner got at registration");
        }
        if (!context.Request.HasJsonContentType())
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type", "send the assignment as application/json");
        }
        JobAssignment? job;
        try
        {
            job = await JsonSerializer.DeserializeAsync<JobAssignment>(context.Request.Body, Json, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad Request", $"the body is not a job assignment: {e.Message}");
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's body limit (MaxRequestBodyBytes), met while reading: 413, never a 500.
            return Problem(e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Payload Too Large" : "Bad Request", e.Message);
        }
        if (job is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad Request", "the body is JSON null");
        }
        if (Invalid(job, out var deadline) is { } problem)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad Request", problem);
        }
        return jobs.TryAccept(job, deadline, receivedAt) switch
        {
            Refusal.None => TypedResults.Accepted((string?)null, new AssignmentAccepted(job.JobId, "accepted")),
            Refusal.UnknownModel => Problem(StatusCodes.Status409Conflict, "Conflict", $"this miner does not serve model '{job.JobData.Model}'"),
            Refusal.Duplicate => Problem(StatusCodes.Status409Conflict, "Conflict", $"job {job.JobId} was already assigned to this miner"),
            Refusal.DeadlinePassed => Problem(StatusCodes.Status409Conflict, "Conflict", $"the job's deadline {job.Deadline} has passed"),
            Refusal.AtCapacity => Problem(StatusCodes.Status503ServiceUnavailable, "Service Unavailable", $"the miner is at capacity ({options.Capacity} jobs)"),
            Refusal.DeadlineTooShort => Problem(StatusCodes.Status409Conflict, "Conflict",
                $"this miner cannot generate {job.JobData.Options?.NumPredict} tokens of '{job.JobData.Model}' before the deadline {job.Deadline} "
                + $"(it measures {jobs.Rates.RateOf(job.JobData.Model):0.#} tokens/s)"),
            _ => Problem(StatusCodes.Status503ServiceUnavailable, "Service Unavailable", "the miner is not registered with the coordinator yet"),
        };
    }

    /// <summary>What is wrong with the assignment's fields, or null; <paramref name="deadline"/> is the parsed deadline.</summary>
    private static string? Invalid(JobAssignment job, out DateTimeOffset deadline)
    {
        deadline = default;
        if (string.IsNullOrWhiteSpace(job.JobId))
        {
            return "job_id is required";
        }
        // The id goes into the paths of the miner's reports (/v1/jobs/{id}/complete): no separators, no dots, no escapes.
        if (!JobIdPattern().IsMatch(job.JobId))
        {
            return "job_id must be 1 to 128 characters of A-Z a-z 0-9 _ -";
        }
        if (job.JobData is null || string.IsNullOrWhiteSpace(job.JobData.Model) || job.JobData.Prompt is null)
        {
            return "job_data needs model and prompt";
        }
        if (job.JobData.Type != JobLimits.InferenceType)
        {
            return $"job_data.type must be \"{JobLimits.InferenceType}\"";
        }
        if (job.JobData.Options is { } o
            && (o.Temperature is { } t && !(t >= 0 && t <= JobLimits.MaxTemperature) || o.NumPredict is < 1 or > JobLimits.MaxNumPredict))
        {
            return $"job_data.options: temperature must be 0 to {JobLimits.MaxTemperature:0.0} and num_predict 1 to {JobLimits.MaxNumPredict}";
        }
        if (!Aitbc.Core.Amount.TryParseAitbc(job.Reward, out _))
        {
            return "reward must be an AITBC decimal string";
        }
        if (!DateTimeOffset.TryParse(job.Deadline, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out deadline))
        {
            return $"deadline '{job.Deadline}' is not an RFC 3339 time";
        }
        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9_-]{1,128}\z")]
    private static partial System.Text.RegularExpressions.Regex JobIdPattern();

    private static ProblemHttpResult Problem(int status, string title, string detail) => TypedResults.Problem(detail: detail, statusCode: status, title: title);

    private static JsonSerializerOptions CreateJson()
    {
        var json = new JsonSerializerOptions(Aitbc.Client.Http.RestJson.Options)
        {
            RespectRequiredConstructorParameters = true,
            // Two job_ids in one assignment are ambiguous; readers disagree on which wins, so refuse it (as the coordinator does).
            AllowDuplicateProperties = false,
        };
        json.MakeReadOnly(populateMissingResolver: true);
        return json;
    }
}
