using Aitbc.Coordinator.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aitbc.Coordinator.Health;

/// <summary>Ready only while the database answers a ping: without it no job can be stored or read.</summary>
internal sealed class DatabaseReadiness(ICoordinatorStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.PingAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (System.Data.Common.DbException e)
        {
            return HealthCheckResult.Unhealthy($"database unavailable: {e.Message}");
        }
    }
}
