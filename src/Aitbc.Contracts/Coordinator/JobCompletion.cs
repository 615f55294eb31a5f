namespace Aitbc.Contracts.Coordinator;

/// <summary><c>POST /v1/jobs/{id}/complete</c>.</summary>
public sealed record JobCompletion(string JobId, string Result, JobMetrics Metrics, ProofEnvelope Proof);
