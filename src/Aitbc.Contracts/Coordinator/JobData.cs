namespace Aitbc.Contracts.Coordinator;

/// <summary>What a miner runs: the job's payload.</summary>
public sealed record JobData(string Type, string Prompt, string Model, JobOptions? Options = null);
