namespace Aitbc.Contracts.Coordinator;

/// <summary><c>201</c> to an accepted submission (seed step 3).</summary>
public sealed record JobAccepted(string JobId, string Status, string SubmittedAt);
