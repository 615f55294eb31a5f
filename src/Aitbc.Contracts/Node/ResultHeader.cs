namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>header</c>.</summary>
public sealed record ResultHeader(CometHeader Header);
