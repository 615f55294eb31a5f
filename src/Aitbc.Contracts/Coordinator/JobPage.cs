namespace Aitbc.Contracts.Coordinator;

/// <summary>One page of jobs, newest first; <c>next_cursor</c> fetches the next page.</summary>
public sealed record JobPage(IReadOnlyList<JobView> Jobs, string? NextCursor);
