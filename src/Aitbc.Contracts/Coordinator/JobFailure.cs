namespace Aitbc.Contracts.Coordinator;

/// <summary><c>POST /v1/jobs/{id}/fail</c>.</summary>
public sealed record JobFailure(string Error);
