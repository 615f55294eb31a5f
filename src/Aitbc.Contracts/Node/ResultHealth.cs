namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>health</c>: an empty object, sent while the node serves.</summary>
public sealed record ResultHealth;
