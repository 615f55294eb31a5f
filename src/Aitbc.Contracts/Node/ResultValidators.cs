using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>validators</c>: the set at <c>block_height</c>, one page of it, and its size.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record ResultValidators(long BlockHeight, IReadOnlyList<CometValidator>? Validators, int Count, int Total);
