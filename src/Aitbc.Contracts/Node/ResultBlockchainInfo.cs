using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>blockchain</c>: the node's height and up to 20 block summaries, newest first.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record ResultBlockchainInfo(long LastHeight, IReadOnlyList<CometBlockMeta>? BlockMetas);
