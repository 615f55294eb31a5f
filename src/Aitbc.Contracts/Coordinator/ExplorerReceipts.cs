namespace Aitbc.Contracts.Coordinator;

/// <summary>One page of receipts, newest first; <c>next_cursor</c> fetches the next page.</summary>
public sealed record ExplorerReceipts(IReadOnlyList<ExplorerReceipt> Receipts, string? NextCursor);
