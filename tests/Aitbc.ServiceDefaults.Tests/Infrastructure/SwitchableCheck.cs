using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aitbc.ServiceDefaults.Tests.Infrastructure;

/// <summary>A readiness check a test turns on and off: ready with <c>"shard":7</c> as its data, or failing with <see cref="Failure"/>.</summary>
public sealed class SwitchableCheck : IHealthCheck
{
    public string? Failure { get; set; }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Failure is { } failure
            ? HealthCheckResult.Unhealthy(failure)
            : HealthCheckResult.Healthy(data: new Dictionary<string, object> { ["shard"] = 7 }));
}
