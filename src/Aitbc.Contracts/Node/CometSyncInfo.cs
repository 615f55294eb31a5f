using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The tip and the start of a node's chain, and whether it is still catching up with its validator.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometSyncInfo(
    string LatestBlockHash,
    string LatestAppHash,
    long LatestBlockHeight,
    string LatestBlockTime,
    string EarliestBlockHash,
    string EarliestAppHash,
    long EarliestBlockHeight,
    string EarliestBlockTime,
    bool CatchingUp);
