using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>broadcast_tx_sync</c> and <c>_async</c>: CheckTx's verdict and the transaction's hash (upper hex).</summary>
public sealed record ResultBroadcastTx(
    [property: JsonNumberHandling(CometJson.Int32)] uint Code,
    byte[]? Data,
    string Log,
    string Codespace,
    string Hash);
