using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>tx_search</c>: one page of matches and how many there are in all.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record ResultTxSearch(IReadOnlyList<ResultTx>? Txs, long TotalCount);
