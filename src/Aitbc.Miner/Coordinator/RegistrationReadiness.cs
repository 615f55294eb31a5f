using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aitbc.Miner.Coordinator;

/// <summary>Ready once the coordinator has this miner registered: before that it refuses every assignment.</summary>
internal sealed class RegistrationReadiness(MinerSession session) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(session.MinerId is { } minerId && session.Registered
            ? HealthCheckResult.Healthy(data: new Dictionary<string, object> { ["miner_id"] = minerId })
            : HealthCheckResult.Unhealthy("not registered with the coordinator yet"));
}
