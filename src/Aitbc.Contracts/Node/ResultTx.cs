using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>A committed transaction as <c>tx</c> and <c>tx_search</c> return it: where it landed, how it fared, its bytes.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record ResultTx(
    string Hash,
    long Height,
    [property: JsonNumberHandling(CometJson.Int32)] int Index,
    CometExecTxResult TxResult,
    byte[] Tx);
