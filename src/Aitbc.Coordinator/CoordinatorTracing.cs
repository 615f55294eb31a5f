using System.Diagnostics;

namespace Aitbc.Coordinator;

/// <summary>The coordinator's spans (docs/observability.md): a job's submission and its push to a miner.</summary>
public static class CoordinatorTracing
{
    public static readonly ActivitySource Source = new("Aitbc.Coordinator");
}
