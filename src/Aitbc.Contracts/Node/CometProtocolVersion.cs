using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The protocol versions a node speaks (CometBFT's ProtocolVersion).</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometProtocolVersion(long P2p, long Block, long App);
