namespace Aitbc.Contracts.Coordinator;

/// <summary><c>POST /v1/jobs/{id}/status</c> by the assigned miner.</summary>
public sealed record JobStatusUpdate(string Status, string StartedAt);
