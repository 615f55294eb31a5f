using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>broadcast_tx_commit</c>: CheckTx, then the execution in the block at <c>height</c> (0 when refused).</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record ResultBroadcastTxCommit(CometExecTxResult CheckTx, CometExecTxResult TxResult, string Hash, long Height);
