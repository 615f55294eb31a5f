namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>genesis</c>.</summary>
public sealed record ResultGenesis(CometGenesisDoc Genesis);
