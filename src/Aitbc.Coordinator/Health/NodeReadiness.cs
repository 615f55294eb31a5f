using Aitbc.Client.Node;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aitbc.Coordinator.Health;

/// <summary>Ready only while the node answers: every submission opens an escrow on chain.</summary>
internal sealed class NodeReadiness(NodeClient node) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await node.HealthAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (NodeClientException e)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}
