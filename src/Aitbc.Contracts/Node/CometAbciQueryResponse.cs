using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>
/// The application's answer to a query: <c>code</c> 0 with the JSON document in <c>value</c> (base64), or a refusal
/// with its reason in <c>log</c> and no value. CometBFT leaves empty fields out, so every field may be absent when read.
/// </summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometAbciQueryResponse(
    [property: JsonNumberHandling(CometJson.Int32)] uint Code = 0,
    string Log = "",
    string Info = "",
    long Index = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] byte[]? Key = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] byte[]? Value = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), JsonPropertyName("proofOps")] JsonElement? ProofOps = null,
    long Height = 0,
    string Codespace = "");
