namespace Aitbc.Contracts.Coordinator;

/// <summary>What the miner measured while running a job.</summary>
public sealed record JobMetrics(double ComputeTime, long TokensGenerated, long? PromptTokens = null, double? GpuUtilization = null);
