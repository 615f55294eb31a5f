using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>A block's summary as <c>blockchain</c> lists it.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometBlockMeta(CometBlockId BlockId, long BlockSize, CometHeader Header, int NumTxs);
