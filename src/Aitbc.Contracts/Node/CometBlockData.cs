namespace Aitbc.Contracts.Node;

/// <summary>A block's transactions, each its wire bytes (base64 in JSON); CometBFT may send null for none.</summary>
public sealed record CometBlockData(IReadOnlyList<byte[]>? Txs);
