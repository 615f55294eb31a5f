namespace Aitbc.Contracts.Node;

/// <summary>A key/value of an event a transaction emitted; <c>index</c> says whether tx_search can find it.</summary>
public sealed record CometEventAttribute(string Key = "", string Value = "", bool Index = false);
