using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aitbc.ServiceDefaults;

/// <summary>
/// <c>/readyz</c>: the health checks a service registers with <see cref="AddReadinessCheck{T}"/> (the coordinator's
/// database and node, the node's sync, the miner's registration), run on each request. <c>/healthz</c> runs none:
/// it only says that the process serves HTTP.
/// </summary>
public static class Readiness
{
    /// <summary>The tag <c>/readyz</c> selects checks by.</summary>
    public const string Tag = "ready";

    /// <summary>Registers a readiness check (resolved from the container on each run) under <paramref name="name"/>.</summary>
    public static IHealthChecksBuilder AddReadinessCheck<T>(this IHealthChecksBuilder builder, string name)
        where T : class, IHealthCheck
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<T>(name, failureStatus: HealthStatus.Unhealthy, tags: [Tag]);
    }

    /// <summary>
    /// 200 <c>{"status":"ready"}</c> with every check's data beside it (the node's <c>catching_up</c>, the miner's
    /// <c>miner_id</c>); when a check fails, a 503 problem whose detail is the first failed check's description.
    /// </summary>
    public static IResult Answer(HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Status == HealthStatus.Unhealthy)
        {
            return TypedResults.Problem(detail: FirstFailure(report), statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service Unavailable");
        }
        var body = new Dictionary<string, object?>(StringComparer.Ordinal) { ["status"] = "ready" };
        foreach (var entry in report.Entries.Values)
        {
            foreach (var (key, value) in entry.Data)
            {
                body[key] = value;
            }
        }
        return TypedResults.Json(body);
    }

    /// <summary>What the first failed check said, in registration order: its description, else its exception's message, else its name.</summary>
    public static string FirstFailure(HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var (name, entry) = report.Entries.First(e => e.Value.Status == HealthStatus.Unhealthy);
        return entry.Description ?? entry.Exception?.Message ?? $"{name} is not ready";
    }
}
