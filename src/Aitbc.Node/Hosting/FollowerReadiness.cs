using Aitbc.Node.Follower;
using Aitbc.ServiceDefaults;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aitbc.Node;

/// <summary>
/// A validator is ready once it serves; a follower is ready until it halts on a block it refuses (the reason is the
/// failure's description), and says whether it is still catching up.
/// </summary>
internal sealed class FollowerReadiness(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var follower = services.GetService<FollowerService>();
        if (follower?.HaltReason is { } reason)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(reason));
        }
        return Task.FromResult(HealthCheckResult.Healthy(data: new Dictionary<string, object> { ["catching_up"] = follower?.CatchingUp ?? false }));
    }

    /// <summary>
    /// <c>/readyz</c>'s answer: 200 <c>{"status":"ready","catching_up":…}</c>, or 503 <c>{"status":"halted","reason":…}</c>
    /// (not a problem body: followers and scripts read <c>status</c> as a word).
    /// </summary>
    public static IResult Answer(HealthReport report) =>
        report.Status == HealthStatus.Unhealthy
            ? Results.Json(new { status = "halted", reason = Readiness.FirstFailure(report) }, statusCode: StatusCodes.Status503ServiceUnavailable)
            : Readiness.Answer(report);
}
