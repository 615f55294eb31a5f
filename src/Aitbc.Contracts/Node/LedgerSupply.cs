using Aitbc.Core;

namespace Aitbc.Contracts.Node;

/// <summary>The value of <c>abci_query /supply</c>: genesis total against what balances, escrow and stake add up to at <c>height</c>.</summary>
public sealed record LedgerSupply(Amount TotalSupply, Amount Counted, long Height);
