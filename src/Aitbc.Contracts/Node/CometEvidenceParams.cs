using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>How old evidence may be and how much a block may carry (CometBFT's defaults; this chain has none).</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometEvidenceParams(long MaxAgeNumBlocks, long MaxAgeDuration, long MaxBytes);
