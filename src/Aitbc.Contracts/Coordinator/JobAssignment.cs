namespace Aitbc.Contracts.Coordinator;

/// <summary>
/// <c>POST /v1/jobs/assign</c> from the coordinator to a miner: <c>reward</c> is the escrowed budget (AITBC),
/// <c>deadline</c> when the job must be done (RFC 3339), <c>price_per_second</c> the miner's registered price.
/// </summary>
public sealed record JobAssignment(string JobId, JobData JobData, string Reward, string Deadline);
