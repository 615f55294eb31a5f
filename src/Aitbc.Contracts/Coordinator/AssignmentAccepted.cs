namespace Aitbc.Contracts.Coordinator;

/// <summary>A miner's <c>202</c> to an assignment.</summary>
public sealed record AssignmentAccepted(string JobId, string Status);
