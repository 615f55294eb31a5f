using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>
/// The answer to <c>unconfirmed_txs</c> (with the transactions) and <c>num_unconfirmed_txs</c> (counts only,
/// <c>txs</c> null): how many wait in the mempool and their bytes.
/// </summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record ResultUnconfirmedTxs(
    int NTxs,
    int Total,
    long TotalBytes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyList<byte[]>? Txs);
