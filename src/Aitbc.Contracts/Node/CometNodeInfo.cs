namespace Aitbc.Contracts.Node;

/// <summary>Who a node is (CometBFT's DefaultNodeInfo); <c>network</c> is the chain id.</summary>
public sealed record CometNodeInfo(
    CometProtocolVersion ProtocolVersion,
    string Id,
    string ListenAddr,
    string Network,
    string Version,
    string Channels,
    string Moniker,
    CometNodeInfoOther Other);
