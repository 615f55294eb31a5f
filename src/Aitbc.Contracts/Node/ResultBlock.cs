namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>block</c>.</summary>
public sealed record ResultBlock(CometBlockId BlockId, CometBlock Block);
