namespace Aitbc.Contracts.Coordinator;

/// <summary>The seed's flat job body for <c>POST /v1/jobs</c>.</summary>
public sealed record JobSubmission(string Type, string Prompt, string Model, JobOptions? Options = null, string? MaxPrice = null, int? TtlSeconds = null);
