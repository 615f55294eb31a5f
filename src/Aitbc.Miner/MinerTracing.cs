using System.Diagnostics;

namespace Aitbc.Miner;

/// <summary>The miner's spans (docs/observability.md): a job's run and its backend call.</summary>
public static class MinerTracing
{
    public static readonly ActivitySource Source = new("Aitbc.Miner");
}
