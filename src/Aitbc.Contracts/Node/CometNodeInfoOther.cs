namespace Aitbc.Contracts.Node;

/// <summary>The free-form part of a node's info: whether it indexes transactions and where its RPC listens.</summary>
public sealed record CometNodeInfoOther(string TxIndex, string RpcAddress);
