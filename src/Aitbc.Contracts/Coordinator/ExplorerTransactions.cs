namespace Aitbc.Contracts.Coordinator;

/// <summary>One page of transactions, newest first; <c>next_cursor</c> fetches the next page.</summary>
public sealed record ExplorerTransactions(IReadOnlyList<ExplorerTransaction> Transactions, string? NextCursor);
