using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>A header's protocol versions (CometBFT's version.Consensus), 64-bit integers as strings.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometConsensusVersion(long Block, long App);
