namespace Aitbc.Node.Rpc;

/// <summary>Who this node is, for <c>status</c> and <c>net_info</c>.</summary>
public sealed record NodeIdentity(string NodeId, string Moniker, string ListenAddress);
