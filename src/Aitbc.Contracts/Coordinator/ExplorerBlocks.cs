namespace Aitbc.Contracts.Coordinator;

/// <summary>One page of blocks, newest first, with the chain's height; <c>next_cursor</c> fetches the next page.</summary>
public sealed record ExplorerBlocks(IReadOnlyList<ExplorerBlock> Blocks, long LatestHeight, string? NextCursor);
