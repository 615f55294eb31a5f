namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>abci_info</c>.</summary>
public sealed record ResultAbciInfo(CometAbciInfo Response);
