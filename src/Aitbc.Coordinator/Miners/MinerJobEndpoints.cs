using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Http;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Storage;
using Aitbc.Core.Crypto;
using Aitbc.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Aitbc.Coordinator.Miners;

/// <summary>
/// The assigned miner's side of a job over HTTP: <c>/status</c>, <c>/complete</c> and <c>/fail</c>. Each binds the body,
/// finds the miner's public key from its API key and hands the report to <see cref="MinerJobService"/>, whose outcome
/// becomes the answer: the job, 404 for another miner's job, 409 for a state the report cannot move, 400 for a bad report.
/// </summary>
public static class MinerJobEndpoints
{
    public static void MapMinerJobEndpoints(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/v1/jobs").WithTags("miner jobs");
        jobs.MapPost("/{id}/status", StatusAsync).RequireApiKey(Roles.Miner).Routine();
        jobs.MapPost("/{id}/complete", CompleteAsync).RequireApiKey(Roles.Miner).Routine();
        jobs.MapPost("/{id}/fail", FailAsync).RequireApiKey(Roles.Miner);
    }

    private static async Task<Results<Ok<JobView>, ValidationProblem, ProblemHttpResult>> StatusAsync(
        HttpContext context, string id, JobStatusUpdate? body, MinerJobService service, CancellationToken cancellationToken) =>
        MinerEndpoints.KeyOf(Caller.Of(context)) is { } miner
            ? Answer(await service.StartAsync(miner, id, body, cancellationToken).ConfigureAwait(false))
            : Unbound();

    private static async Task<Results<Ok<JobView>, ValidationProblem, ProblemHttpResult>> CompleteAsync(
        HttpContext context, string id, JobCompletion? body, MinerJobService service, CancellationToken cancellationToken) =>
        MinerEndpoints.KeyOf(Caller.Of(context)) is { } miner
            ? Answer(await service.CompleteAsync(miner, id, body, cancellationToken).ConfigureAwait(false))
            : Unbound();

    private static async Task<Results<Ok<JobView>, ValidationProblem, ProblemHttpResult>> FailAsync(
        HttpContext context, string id, JobFailure? body, MinerJobService service, CancellationToken cancellationToken) =>
        MinerEndpoints.KeyOf(Caller.Of(context)) is { } miner
            ? Answer(await service.FailAsync(miner, id, body, cancellationToken).ConfigureAwait(false))
            : Unbound();

    private static ProblemHttpResult Unbound() => Problems.Forbidden("this miner key is bound to no miner public key");

    private static Results<Ok<JobView>, ValidationProblem, ProblemHttpResult> Answer(MinerJobOutcome outcome) => outcome switch
    {
        MinerJobOutcome.Done done => TypedResults.Ok(JobView.From(done.Job)),
        MinerJobOutcome.Missing missing => Problems.NotFound(missing.Detail),
        MinerJobOutcome.Conflict conflict => Problems.Conflict(conflict.Detail),
        MinerJobOutcome.Malformed malformed => Problems.BadRequest(malformed.Detail),
        MinerJobOutcome.Invalid invalid => Problems.Validation(invalid.Errors),
        _ => throw new InvalidOperationException($"unexpected outcome {outcome}"),
    };
}
