using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>
/// The answer to <c>block_results</c>: each transaction's execution in block order (null for a block without any, as
/// CometBFT writes it) and the app hash after the block.
/// </summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record ResultBlockResults(
    long Height,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyList<CometExecTxResult>? TxsResults,
    IReadOnlyList<CometEvent>? FinalizeBlockEvents,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] JsonElement? ValidatorUpdates,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] JsonElement? ConsensusParamUpdates,
    string AppHash = "");
