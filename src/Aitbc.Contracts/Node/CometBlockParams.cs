using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>How large a block may be; <c>max_gas</c> -1 is unlimited.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometBlockParams(long MaxBytes, long MaxGas);
