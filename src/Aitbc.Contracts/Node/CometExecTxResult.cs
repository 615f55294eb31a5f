using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>
/// The outcome of checking or executing a transaction (CometBFT's ExecTxResult); <c>code</c> 0 is success. CometBFT
/// leaves empty fields out, so every field may be absent when read.
/// </summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometExecTxResult(
    [property: JsonNumberHandling(CometJson.Int32)] uint Code = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] byte[]? Data = null,
    string Log = "",
    string Info = "",
    long GasWanted = 0,
    long GasUsed = 0,
    IReadOnlyList<CometEvent>? Events = null,
    string Codespace = "");
