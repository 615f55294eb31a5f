namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>abci_query</c>.</summary>
public sealed record ResultAbciQuery(CometAbciQueryResponse Response);
