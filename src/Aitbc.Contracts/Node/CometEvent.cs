namespace Aitbc.Contracts.Node;

/// <summary>An event a transaction emitted; CometBFT may leave out the attributes of one that has none.</summary>
public sealed record CometEvent(string Type, IReadOnlyList<CometEventAttribute>? Attributes = null);
